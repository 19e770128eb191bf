#include "app/connectors/ssh/sshknownhosts.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <QStringList>

namespace Pilothouse {
namespace {

// OpenSSH's glob: '*' any run, '?' one character; host names compare case-insensitively.
bool globMatches(QStringView pattern, QStringView text)
{
    qsizetype p = 0;
    qsizetype t = 0;
    qsizetype starP = -1;
    qsizetype starT = 0;
    while (t < text.size()) {
        if (p < pattern.size() &&
            (pattern[p] == u'?' || pattern[p].toLower() == text[t].toLower())) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == u'*') {
            starP = p++;
            starT = t;
        } else if (starP >= 0) {
            p = starP + 1;
            t = ++starT;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == u'*')
        ++p;
    return p == pattern.size();
}

bool hashedMatches(const QByteArray &field, const QString &token)
{
    // |1|base64(salt)|base64(HMAC-SHA1(salt, token))
    const QList<QByteArray> parts = field.split('|');
    if (parts.size() != 4 || !parts.at(0).isEmpty() || parts.at(1) != "1")
        return false;
    const QByteArray salt = QByteArray::fromBase64(parts.at(2));
    const QByteArray mac = QByteArray::fromBase64(parts.at(3));
    return QMessageAuthenticationCode::hash(token.toUtf8(), salt, QCryptographicHash::Sha1) == mac;
}

} // namespace

HostKeyAction SshKnownHosts::actionFor(HostKeyStatus status)
{
    switch (status) {
    case HostKeyStatus::Known:
        return HostKeyAction::Proceed;
    case HostKeyStatus::Unknown:
        return HostKeyAction::AskUser;
    case HostKeyStatus::Changed:
    case HostKeyStatus::OtherType:
    case HostKeyStatus::Error:
        break;
    }
    return HostKeyAction::Refuse;
}

QString SshKnownHosts::formatSha256(const QByteArray &digest)
{
    return QStringLiteral("SHA256:") +
           QString::fromLatin1(digest.toBase64(QByteArray::OmitTrailingEquals));
}

QString SshKnownHosts::fingerprintOfBlob(const QByteArray &blob)
{
    return formatSha256(QCryptographicHash::hash(blob, QCryptographicHash::Sha256));
}

QString SshKnownHosts::hostToken(const QString &host, int port)
{
    if (port <= 0 || port == 22)
        return host;
    return u'[' + host + QStringLiteral("]:") + QString::number(port);
}

bool SshKnownHosts::hostFieldMatches(const QByteArray &field, const QString &host, int port)
{
    const QString token = hostToken(host, port);
    if (field.startsWith('|'))
        return hashedMatches(field, token);
    bool matched = false;
    for (const QByteArray &raw : field.split(',')) {
        const bool negated = raw.startsWith('!');
        const QString pattern = QString::fromUtf8(negated ? raw.mid(1) : raw);
        if (pattern.isEmpty() || !globMatches(pattern, token))
            continue;
        if (negated)
            return false; // a negated match overrides every positive one
        matched = true;
    }
    return matched;
}

QList<KnownHostKey> SshKnownHosts::keysFor(const QByteArray &content, const QString &host, int port)
{
    QList<KnownHostKey> keys;
    int lineNo = 0;
    for (const QByteArray &rawLine : content.split('\n')) {
        ++lineNo;
        const QByteArray line = rawLine.trimmed();
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        QList<QByteArray> fields = line.simplified().split(' ');
        bool revoked = false;
        if (fields.first().startsWith('@')) {
            // @cert-authority lines describe CAs, not host keys; @revoked ones
            // are listed so that a message can say why a key is refused.
            if (fields.first() != "@revoked")
                continue;
            revoked = true;
            fields.removeFirst();
        }
        if (fields.size() < 3 || !hostFieldMatches(fields.at(0), host, port))
            continue;
        const QByteArray blob = QByteArray::fromBase64(fields.at(2));
        if (blob.isEmpty())
            continue;
        keys.append({QString::fromUtf8(fields.at(1)), fingerprintOfBlob(blob), lineNo, revoked});
    }
    return keys;
}

QString SshKnownHosts::changedKeyMessage(const QString &host, int port,
                                         const QString &knownHostsFile,
                                         const QList<KnownHostKey> &expected,
                                         const QString &presentedType,
                                         const QString &presentedFingerprint)
{
    const QString where = host + u':' + QString::number(port > 0 ? port : 22);
    QStringList listed;
    for (const KnownHostKey &k : expected) {
        listed.append(QStringLiteral("%1 %2 (line %3%4)")
                          .arg(k.keyType, k.fingerprint)
                          .arg(k.line)
                          .arg(k.revoked ? QStringLiteral(", revoked") : QString()));
    }
    const QString expects =
        listed.isEmpty() ? QStringLiteral("a different key") : listed.join(QStringLiteral(", "));
    return QStringLiteral("refusing to connect to %1: its host key does not match %2. "
                          "known_hosts expects %3; the server presented %4 %5. "
                          "Someone may be intercepting the connection, or the host was "
                          "reinstalled: if you know the change is legitimate, remove the old "
                          "entry (ssh-keygen -R '%6' -f %2) and connect again.")
        .arg(where, knownHostsFile, expects, presentedType, presentedFingerprint,
             hostToken(host, port));
}

} // namespace Pilothouse
