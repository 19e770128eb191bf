// Replays known_hosts files and lookups captured from OpenSSH's ssh-keygen
// (tests/fixtures/ssh/README.md) against SshKnownHosts.

#include "app/connectors/ssh/sshknownhosts.h"

#include <QCryptographicHash>
#include <QFile>
#include <QRegularExpression>
#include <QTest>

using namespace Pilothouse;

namespace {

QByteArray fixture(const QString &name)
{
    QFile f(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/ssh/") + name);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing fixture %s", qPrintable(name));
    return f.readAll();
}

struct Expected
{
    int line = 0;
    QString fingerprint;
    bool revoked = false;
};

// lookups.txt: "== <query>" then what `ssh-keygen -l -F <query>` printed.
QMap<QString, QList<Expected>> parseLookups(const QString &knownHostsFile)
{
    const QString name =
        QStringLiteral("lookups") + knownHostsFile.mid(11) + QStringLiteral(".txt");
    QMap<QString, QList<Expected>> lookups;
    static const QRegularExpression found(
        QStringLiteral("^# Host \\S+ found: line (\\d+) ?(\\S*)"));
    static const QRegularExpression key(QStringLiteral("^\\S+ \\S+ (SHA256:\\S+)$"));
    QString query;
    Expected pending;
    QString marker;
    for (const QByteArray &raw : fixture(name).split('\n')) {
        const QString line = QString::fromUtf8(raw).trimmed();
        if (line.startsWith(QStringLiteral("== "))) {
            query = line.mid(3);
            lookups[query];
            continue;
        }
        if (const auto m = found.match(line); m.hasMatch()) {
            pending =
                Expected{m.captured(1).toInt(), {}, m.captured(2) == QStringLiteral("REVOKED")};
            marker = m.captured(2);
            continue;
        }
        if (const auto m = key.match(line); m.hasMatch()) {
            pending.fingerprint = m.captured(1);
            // CA lines sign host certificates; they are not host keys.
            if (marker != QStringLiteral("CA"))
                lookups[query].append(pending);
        }
    }
    return lookups;
}

void splitQuery(const QString &query, QString *host, int *port)
{
    static const QRegularExpression bracketed(QStringLiteral("^\\[(.+)\\]:(\\d+)$"));
    if (const auto m = bracketed.match(query); m.hasMatch()) {
        *host = m.captured(1);
        *port = m.captured(2).toInt();
    } else {
        *host = query;
        *port = 22;
    }
}

} // namespace

class TestSshKnownHosts final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void formatsLikeOpenSsh()
    {
        // Unpadded base64, as OpenSSH prints it (the padded form ends in '=').
        const QByteArray digest = QCryptographicHash::hash("abc", QCryptographicHash::Sha256);
        QCOMPARE(SshKnownHosts::formatSha256(digest),
                 QStringLiteral("SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0"));
    }

    void fingerprintsMatchSshKeygen()
    {
        // fingerprints.txt is `ssh-keygen -l -f known_hosts`: one line per plain entry.
        QStringList expected;
        for (const QByteArray &line : fixture(QStringLiteral("fingerprints.txt")).split('\n')) {
            if (!line.isEmpty())
                expected.append(QString::fromUtf8(line.split(' ').at(1)));
        }
        QStringList actual;
        for (const QByteArray &line : fixture(QStringLiteral("known_hosts")).split('\n')) {
            const QList<QByteArray> fields = line.split(' ');
            if (line.isEmpty() || line.startsWith('#') || line.startsWith('@') || fields.size() < 3)
                continue;
            actual.append(SshKnownHosts::fingerprintOfBlob(QByteArray::fromBase64(fields.at(2))));
        }
        QCOMPARE(expected.size(), 5);
        QCOMPARE(actual, expected);
    }

    void hostTokens()
    {
        QCOMPARE(SshKnownHosts::hostToken(QStringLiteral("h.lab"), 22), QStringLiteral("h.lab"));
        QCOMPARE(SshKnownHosts::hostToken(QStringLiteral("10.213.0.11"), 15122),
                 QStringLiteral("[10.213.0.11]:15122"));
    }

    void lookupsMatchSshKeygen_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("query");
        for (const QString &file :
             {QStringLiteral("known_hosts"), QStringLiteral("known_hosts.hashed")}) {
            const QMap<QString, QList<Expected>> lookups = parseLookups(file);
            QVERIFY(lookups.size() >= 7);
            for (auto it = lookups.cbegin(); it != lookups.cend(); ++it)
                QTest::addRow("%s %s", qPrintable(file), qPrintable(it.key())) << file << it.key();
        }
    }

    void lookupsMatchSshKeygen()
    {
        QFETCH(QString, file);
        QFETCH(QString, query);
        const QList<Expected> expected = parseLookups(file).value(query);
        QString host;
        int port = 0;
        splitQuery(query, &host, &port);
        const QList<KnownHostKey> keys = SshKnownHosts::keysFor(fixture(file), host, port);
        QCOMPARE(keys.size(), expected.size());
        for (qsizetype i = 0; i < keys.size(); ++i) {
            QCOMPARE(keys.at(i).line, expected.at(i).line);
            QCOMPARE(keys.at(i).fingerprint, expected.at(i).fingerprint);
            QCOMPARE(keys.at(i).revoked, expected.at(i).revoked);
        }
    }

    void hashedEntriesAreReallyHashed()
    {
        // Otherwise the hashed rows above would prove nothing.
        const QList<QByteArray> lines = fixture(QStringLiteral("known_hosts.hashed")).split('\n');
        QVERIFY(lines.size() > 3);
        for (int i = 1; i <= 3; ++i)
            QVERIFY2(lines.at(i).startsWith("|1|"), lines.at(i).constData());
    }

    void keyTypesAreReported()
    {
        const QList<KnownHostKey> keys = SshKnownHosts::keysFor(
            fixture(QStringLiteral("known_hosts")), QStringLiteral("10.0.0.5"), 2222);
        QCOMPARE(keys.size(), 3);
        QCOMPARE(keys.at(0).keyType, QStringLiteral("ssh-ed25519"));
        QCOMPARE(keys.at(1).keyType, QStringLiteral("ecdsa-sha2-nistp256"));
    }

    void decisions()
    {
        QCOMPARE(SshKnownHosts::actionFor(HostKeyStatus::Known), HostKeyAction::Proceed);
        QCOMPARE(SshKnownHosts::actionFor(HostKeyStatus::Unknown), HostKeyAction::AskUser);
        QCOMPARE(SshKnownHosts::actionFor(HostKeyStatus::Changed), HostKeyAction::Refuse);
        QCOMPARE(SshKnownHosts::actionFor(HostKeyStatus::OtherType), HostKeyAction::Refuse);
        QCOMPARE(SshKnownHosts::actionFor(HostKeyStatus::Error), HostKeyAction::Refuse);
    }

    void changedKeyMessageNamesEverything()
    {
        const QList<KnownHostKey> expected = SshKnownHosts::keysFor(
            fixture(QStringLiteral("known_hosts")), QStringLiteral("10.0.0.5"), 2222);
        const QString message = SshKnownHosts::changedKeyMessage(
            QStringLiteral("10.0.0.5"), 2222, QStringLiteral("/tmp/kh"), expected,
            QStringLiteral("ssh-ed25519"), QStringLiteral("SHA256:presentedPresented"));
        QVERIFY2(message.contains(QStringLiteral("10.0.0.5:2222")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("/tmp/kh")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("SHA256:presentedPresented")),
                 qPrintable(message));
        for (const KnownHostKey &k : expected)
            QVERIFY2(message.contains(k.fingerprint), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("ssh-keygen -R '[10.0.0.5]:2222'")),
                 qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("revoked")), qPrintable(message));
    }
};

QTEST_GUILESS_MAIN(TestSshKnownHosts)
#include "tst_sshknownhosts.moc"
