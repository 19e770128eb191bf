#pragma once
// Pure functions and value types, usable on any thread.

#include <QByteArray>
#include <QList>
#include <QString>

namespace Pilothouse {

// A key that a known_hosts file lists for a host.
struct KnownHostKey
{
    QString keyType;      // ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...
    QString fingerprint;  // "SHA256:..." as `ssh-keygen -l` prints it
    int line = 0;         // 1-based line in the file
    bool revoked = false; // the line carries the @revoked marker
};

// What checking a presented host key against known_hosts found.
enum class HostKeyStatus {
    Known,     // listed, and the key matches
    Unknown,   // not listed (or no known_hosts file yet)
    Changed,   // listed with a different key of the same type
    OtherType, // listed with keys of other types only
    Error,     // the file could not be read or the key not compared
};

// What the session does about it.
enum class HostKeyAction {
    Proceed, // go on with authentication
    AskUser, // pause and let the caller accept or reject the key
    Refuse,  // never connect
};

// Reading OpenSSH known_hosts files, and what to do with a host key. Only
// what the error messages and tests need: libssh does the actual check.
class SshKnownHosts final
{
public:
    static HostKeyAction actionFor(HostKeyStatus status);

    // "SHA256:" + unpadded base64 of a SHA-256 digest, as OpenSSH prints it.
    static QString formatSha256(const QByteArray &digest);
    // The SHA256 fingerprint of a public key blob (a known_hosts key field, decoded).
    static QString fingerprintOfBlob(const QByteArray &blob);
    // How known_hosts names host:port: "host" on port 22, "[host]:port" otherwise.
    static QString hostToken(const QString &host, int port);
    // Whether a host field (comma-separated patterns with * ? and !, or a
    // hashed |1|salt|hmac) names host:port.
    static bool hostFieldMatches(const QByteArray &field, const QString &host, int port);
    // Every key the content of a known_hosts file lists for host:port, in file order.
    static QList<KnownHostKey> keysFor(const QByteArray &content, const QString &host, int port);

    // The message for a refused key: names host:port, the file, what it
    // expects and what the server presented, and how to resolve it.
    static QString changedKeyMessage(const QString &host, int port, const QString &knownHostsFile,
                                     const QList<KnownHostKey> &expected,
                                     const QString &presentedType,
                                     const QString &presentedFingerprint);
};

} // namespace Pilothouse
