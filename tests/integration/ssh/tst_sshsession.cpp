// SshSession against the lab's real sshd (port 15122, key auth) and Docker engines.

#include "app/connectors/ssh/sshexecjob.h"
#include "app/connectors/ssh/sshsession.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalSocket>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <limits>

#include "tests/integration/labaccess.h"
#include <cerrno>
#include <memory>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace Pilothouse;

namespace {

constexpr int ConnectWaitMs = 15000;

// The fingerprint OpenSSH itself reports for host:port in a known_hosts file.
QString sshKeygenFingerprint(const QString &knownHosts, const QString &token)
{
    const LabAccess::Run r =
        LabAccess::local(QStringLiteral("ssh-keygen"), {QStringLiteral("-l"), QStringLiteral("-F"),
                                                        token, QStringLiteral("-f"), knownHosts});
    static const QRegularExpression re(QStringLiteral("(SHA256:\\S+)"));
    return re.match(QString::fromUtf8(r.out)).captured(1);
}

QString fingerprintOfPublicKeyFile(const QString &pub)
{
    const LabAccess::Run r = LabAccess::local(QStringLiteral("ssh-keygen"),
                                              {QStringLiteral("-l"), QStringLiteral("-f"), pub});
    static const QRegularExpression re(QStringLiteral("(SHA256:\\S+)"));
    return re.match(QString::fromUtf8(r.out)).captured(1);
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(content) == content.size();
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Runs one job to its end; returns false when it never finished.
bool waitFinished(SshExecJob *job, int timeoutMs)
{
    if (job->isFinished())
        return true;
    QSignalSpy spy(job, &SshExecJob::finished);
    return spy.wait(timeoutMs) || job->isFinished();
}

// Whether a process with exactly this command line runs on the session's host.
bool remoteProcessRuns(SshSession *session, const QString &commandLine)
{
    SshExecJob *job = session->exec(QStringLiteral("pgrep -fx '%1'").arg(commandLine), 10000);
    waitFinished(job, 15000);
    return job->exitCode() == 0;
}

// A raw HTTP/1.0 request through a local socket; returns the whole response.
QByteArray httpOverLocalSocket(const QString &path, const QByteArray &target)
{
    QLocalSocket socket;
    socket.connectToServer(path);
    if (!socket.waitForConnected(5000))
        return "connect failed: " + socket.errorString().toUtf8();
    socket.write("GET " + target + " HTTP/1.0\r\nHost: docker\r\n\r\n");
    socket.waitForBytesWritten(5000);
    QByteArray response;
    QElapsedTimer t;
    t.start();
    while (socket.state() == QLocalSocket::ConnectedState && t.elapsed() < 10000) {
        if (socket.waitForReadyRead(1000))
            response += socket.readAll();
    }
    response += socket.readAll();
    return response;
}

QByteArray bodyOf(const QByteArray &response)
{
    const qsizetype at = response.indexOf("\r\n\r\n");
    return at < 0 ? QByteArray() : response.mid(at + 4);
}

} // namespace

class TestSshSession final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;
    QTemporaryDir m_tmp;
    qint64 m_lastConnectMs = -1;

    SshOptions optionsFor(const QString &name) const
    {
        const InventoryHost *h = m_lab.inventory().host(name);
        return SshOptions::fromInventory(*h, m_lab.inventory().settings.knownHosts);
    }

    QString firstHost() const { return m_lab.inventory().hosts.value(0).name; }

    std::unique_ptr<SshSession> connected(const SshOptions &options)
    {
        auto session = std::make_unique<SshSession>(options);
        QSignalSpy ok(session.get(), &SshSession::connected);
        QSignalSpy failed(session.get(), &SshSession::failed);
        QElapsedTimer clock;
        clock.start();
        session->connectToHost();
        [&] {
            QTRY_VERIFY_WITH_TIMEOUT(!ok.isEmpty() || !failed.isEmpty(), ConnectWaitMs);
        }();
        m_lastConnectMs = clock.elapsed();
        if (!failed.isEmpty())
            qWarning("connect failed: %s",
                     qPrintable(failed.first().first().value<Error>().message));
        return ok.isEmpty() ? nullptr : std::move(session);
    }

    QString labKnownHosts() const { return m_lab.inventory().settings.knownHosts; }

    QString tokenOf(const SshOptions &o) const
    {
        return QStringLiteral("[%1]:%2").arg(o.host).arg(o.port);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        QVERIFY(m_tmp.isValid());
        QVERIFY(m_lab.inventory().hosts.size() >= 3);
    }

    void hostnameOnEachHost_data()
    {
        QTest::addColumn<QString>("host");
        for (const InventoryHost &h : m_lab.inventory().hosts)
            QTest::newRow(qPrintable(h.name)) << h.name;
    }

    void hostnameOnEachHost()
    {
        QFETCH(QString, host);
        auto session = connected(optionsFor(host));
        QVERIFY(session);
        QCOMPARE(session->state(), SshSession::State::Connected);
        const qint64 connectMs = m_lastConnectMs;
        QElapsedTimer clock;
        clock.start();
        SshExecJob *job = session->exec(QStringLiteral("hostname"), 10000);
        QVERIFY(waitFinished(job, 15000));
        QVERIFY2(job->error().message.isEmpty(), qPrintable(job->error().message));
        QCOMPARE(job->exitCode(), 0);
        QCOMPARE(job->standardOutput().trimmed(), host.toUtf8());
        qInfo("%s: connected in %lld ms, `hostname` took %lld ms", qPrintable(host), connectMs,
              clock.elapsed());

        QSignalSpy latency(session.get(), &SshSession::latencyMeasured);
        session->measureLatency(5000);
        QVERIFY(latency.wait(10000));
        const double ms = latency.first().first().toDouble();
        QVERIFY2(ms > 0 && ms < 1000, qPrintable(QString::number(ms)));
        QCOMPARE(session->latencyMs(), ms);
        qInfo("%s: ssh round trip %.2f ms", qPrintable(host), ms);
    }

    void exitCodeIsReported()
    {
        auto session = connected(optionsFor(firstHost()));
        QVERIFY(session);
        SshExecJob *job = session->exec(QStringLiteral("echo to-stderr >&2; exit 3"), 10000);
        QVERIFY(waitFinished(job, 15000));
        QCOMPARE(job->exitCode(), 3);
        QVERIFY2(job->error().message.isEmpty(), qPrintable(job->error().message));
        QCOMPARE(job->standardError(), QByteArray("to-stderr\n"));
        QVERIFY(job->standardOutput().isEmpty());
    }

    void outputIsStreamed()
    {
        auto session = connected(optionsFor(firstHost()));
        QVERIFY(session);
        SshExecJob *job =
            session->exec(QStringLiteral("for i in 1 2 3; do echo tick$i; sleep 0.4; done"), 10000);
        QList<QByteArray> pieces;
        QList<qint64> at;
        QElapsedTimer clock;
        clock.start();
        connect(job, &SshExecJob::stdoutData, this, [&](const QByteArray &data) {
            pieces.append(data);
            at.append(clock.elapsed());
        });
        QVERIFY(waitFinished(job, 15000));
        QCOMPARE(job->exitCode(), 0);
        QCOMPARE(pieces.join(), QByteArray("tick1\ntick2\ntick3\n"));
        // Arrived as it was produced, not all at the end.
        QVERIFY2(pieces.size() >= 3, pieces.join().constData());
        QVERIFY2(at.last() - at.first() >= 600,
                 qPrintable(QString::number(at.last() - at.first())));
    }

    void execsRunConcurrently()
    {
        auto session = connected(optionsFor(firstHost()));
        QVERIFY(session);
        // Each job says, in the host's own clock, when its command started and
        // ended; run concurrently, every job starts before any ends. (Timing
        // the whole would fail on a loaded machine: overlap does not.)
        QList<SshExecJob *> jobs;
        for (int i = 0; i < 4; ++i)
            jobs.append(session->exec(
                QStringLiteral("s=$(date +%s%N); sleep 1; echo job%1 $s $(date +%s%N)").arg(i),
                15000));
        qint64 lastStart = 0;
        qint64 firstEnd = std::numeric_limits<qint64>::max();
        for (int i = 0; i < jobs.size(); ++i) {
            QVERIFY(waitFinished(jobs.at(i), 30000));
            QCOMPARE(jobs.at(i)->exitCode(), 0);
            const QList<QByteArray> f = jobs.at(i)->standardOutput().trimmed().split(' ');
            QCOMPARE(f.size(), 3);
            QCOMPARE(f.at(0), QStringLiteral("job%1").arg(i).toUtf8());
            lastStart = std::max(lastStart, f.at(1).toLongLong());
            firstEnd = std::min(firstEnd, f.at(2).toLongLong());
        }
        QVERIFY2(lastStart < firstEnd,
                 qPrintable(QStringLiteral("the last job started %1 ms after the first ended")
                                .arg((lastStart - firstEnd) / 1000000)));
    }

    void execBeforeConnectedWaits()
    {
        SshSession session(optionsFor(firstHost()));
        session.connectToHost();
        SshExecJob *job = session.exec(QStringLiteral("echo early"), 15000);
        QVERIFY(waitFinished(job, 20000));
        QCOMPARE(job->standardOutput(), QByteArray("early\n"));
        QVERIFY(session.isConnected());
    }

    void timeoutKeepsSessionUsable()
    {
        auto session = connected(optionsFor(firstHost()));
        QVERIFY(session);
        QElapsedTimer clock;
        clock.start();
        const QString sleeper = QStringLiteral("sleep 29.%1").arg(::getpid());
        SshExecJob *job = session->exec(sleeper, 1000);
        QVERIFY(waitFinished(job, 5000));
        const qint64 took = clock.elapsed();
        QVERIFY2(took >= 900 && took < 3000, qPrintable(QString::number(took)));
        QCOMPARE(job->exitCode(), -1);
        QVERIFY2(job->error().message.contains(QStringLiteral("timed out after 1.0 s")),
                 qPrintable(job->error().message));
        QVERIFY2(job->error().message.contains(sleeper), qPrintable(job->error().message));
        // Stopped on the host too, not just abandoned.
        QTRY_VERIFY_WITH_TIMEOUT(!remoteProcessRuns(session.get(), sleeper), 5000);

        SshExecJob *next = session->exec(QStringLiteral("echo still-here"), 10000);
        QVERIFY(waitFinished(next, 15000));
        QCOMPARE(next->standardOutput(), QByteArray("still-here\n"));
        QVERIFY(session->isConnected());
    }

    void cancelStopsTheCommand()
    {
        auto session = connected(optionsFor(firstHost()));
        QVERIFY(session);
        const QString sleeper = QStringLiteral("sleep 28.%1").arg(::getpid());
        SshExecJob *job = session->exec(QStringLiteral("echo started; ") + sleeper, 60000);
        QSignalSpy started(job, &SshExecJob::stdoutData);
        QVERIFY(started.wait(10000)); // the cancel must reach a running command
        QVERIFY(remoteProcessRuns(session.get(), sleeper));
        job->cancel();
        QVERIFY(waitFinished(job, 5000));
        QTRY_VERIFY_WITH_TIMEOUT(!remoteProcessRuns(session.get(), sleeper), 5000);
        QCOMPARE(job->exitCode(), -1);
        QVERIFY2(job->error().message.contains(QStringLiteral("cancelled")),
                 qPrintable(job->error().message));
        SshExecJob *next = session->exec(QStringLiteral("true"), 10000);
        QVERIFY(waitFinished(next, 15000));
        QCOMPARE(next->exitCode(), 0);
    }

    void unknownHostKeyAskedThenPersisted()
    {
        SshOptions options = optionsFor(firstHost());
        const QString expected = sshKeygenFingerprint(labKnownHosts(), tokenOf(options));
        QVERIFY2(expected.startsWith(QStringLiteral("SHA256:")), qPrintable(expected));

        const QString knownHosts = m_tmp.filePath(QStringLiteral("unknown_known_hosts"));
        QVERIFY(writeFile(knownHosts, {}));
        options.knownHostsFile = knownHosts;

        SshSession session(options);
        QSignalSpy unknown(&session, &SshSession::hostKeyUnknown);
        QSignalSpy ok(&session, &SshSession::connected);
        session.connectToHost();
        QVERIFY(unknown.wait(ConnectWaitMs));
        QCOMPARE(unknown.first().at(0).toString(), options.host);
        QCOMPARE(unknown.first().at(1).toString(), QStringLiteral("ssh-ed25519"));
        QCOMPARE(unknown.first().at(2).toString(), expected);
        QCOMPARE(session.state(), SshSession::State::HostKeyDecision);
        QVERIFY(!ok.wait(300)); // nothing connects while the question is open

        session.acceptHostKey(true);
        QVERIFY(ok.wait(ConnectWaitMs));
        QCOMPARE(sshKeygenFingerprint(knownHosts, tokenOf(options)), expected);

        // The persisted key is now simply known.
        SshSession again(options);
        QSignalSpy unknownAgain(&again, &SshSession::hostKeyUnknown);
        QSignalSpy okAgain(&again, &SshSession::connected);
        again.connectToHost();
        QVERIFY(okAgain.wait(ConnectWaitMs));
        QVERIFY(unknownAgain.isEmpty());
    }

    void unknownHostKeyAcceptedOnceOrRejected()
    {
        SshOptions options = optionsFor(firstHost());
        options.knownHostsFile = m_tmp.filePath(QStringLiteral("never_written"));

        SshSession once(options);
        QSignalSpy unknown(&once, &SshSession::hostKeyUnknown);
        QSignalSpy ok(&once, &SshSession::connected);
        once.connectToHost();
        QVERIFY(unknown.wait(ConnectWaitMs));
        once.acceptHostKey(false);
        QVERIFY(ok.wait(ConnectWaitMs));
        QVERIFY(!QFile::exists(options.knownHostsFile));

        SshSession rejected(options);
        QSignalSpy unknown2(&rejected, &SshSession::hostKeyUnknown);
        QSignalSpy failed(&rejected, &SshSession::failed);
        rejected.connectToHost();
        QVERIFY(unknown2.wait(ConnectWaitMs));
        rejected.rejectHostKey();
        QVERIFY(failed.wait(ConnectWaitMs));
        QVERIFY(failed.first().first().value<Error>().message.contains(QStringLiteral("rejected")));
        QCOMPARE(rejected.state(), SshSession::State::Disconnected);
    }

    void changedHostKeyIsRefused()
    {
        SshOptions options = optionsFor(firstHost());
        const QString real = sshKeygenFingerprint(labKnownHosts(), tokenOf(options));
        QVERIFY(real.startsWith(QStringLiteral("SHA256:")));

        // A copy of the lab's file where this host's entry carries another key.
        const QString fakeKey = m_tmp.filePath(QStringLiteral("impostor"));
        const LabAccess::Run gen =
            LabAccess::local(QStringLiteral("ssh-keygen"),
                             {QStringLiteral("-q"), QStringLiteral("-t"), QStringLiteral("ed25519"),
                              QStringLiteral("-N"), QString(), QStringLiteral("-f"), fakeKey});
        QVERIFY2(gen.ok(), gen.err.constData());
        const QString fake = fingerprintOfPublicKeyFile(fakeKey + QStringLiteral(".pub"));
        QVERIFY(fake.startsWith(QStringLiteral("SHA256:")) && fake != real);
        const QList<QByteArray> fakeFields = readFile(fakeKey + QStringLiteral(".pub")).split(' ');
        QByteArray changed;
        const QByteArray prefix = tokenOf(options).toUtf8() + ' ';
        for (const QByteArray &line : readFile(labKnownHosts()).split('\n')) {
            if (line.startsWith(prefix))
                changed += tokenOf(options).toUtf8() + ' ' + fakeFields.at(0) + ' ' +
                           fakeFields.at(1) + '\n';
            else if (!line.isEmpty())
                changed += line + '\n';
        }
        const QString knownHosts = m_tmp.filePath(QStringLiteral("changed_known_hosts"));
        QVERIFY(writeFile(knownHosts, changed));
        options.knownHostsFile = knownHosts;

        SshSession session(options);
        QSignalSpy unknown(&session, &SshSession::hostKeyUnknown);
        QSignalSpy ok(&session, &SshSession::connected);
        QSignalSpy failed(&session, &SshSession::failed);
        session.connectToHost();
        QVERIFY(failed.wait(ConnectWaitMs));
        const QString message = failed.first().first().value<Error>().message;
        qInfo("%s", qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("%1:%2").arg(options.host).arg(options.port)),
                 qPrintable(message));
        QVERIFY2(message.contains(fake), qPrintable(message));
        QVERIFY2(message.contains(real), qPrintable(message));
        QVERIFY2(message.contains(knownHosts), qPrintable(message));
        QVERIFY(unknown.isEmpty());
        QVERIFY(ok.isEmpty());
        QCOMPARE(readFile(knownHosts), changed); // never "fixed" behind the user's back
    }

    void authenticationErrors_data()
    {
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("wrong user") << QStringLiteral("nobody-pilothouse") << QString()
                                    << QStringLiteral("nobody-pilothouse@");
        QTest::newRow("wrong key")
            << QString() << QStringLiteral("stranger") << QStringLiteral("stranger");
        QTest::newRow("missing key file") << QString() << QStringLiteral("does-not-exist")
                                          << QStringLiteral("cannot read the private key");
    }

    void authenticationErrors()
    {
        QFETCH(QString, user);
        QFETCH(QString, key);
        QFETCH(QString, mentions);
        SshOptions options = optionsFor(firstHost());
        if (!user.isEmpty())
            options.user = user;
        if (!key.isEmpty()) {
            const QString path = m_tmp.filePath(key);
            if (key == QStringLiteral("stranger") && !QFile::exists(path)) {
                QVERIFY(LabAccess::local(QStringLiteral("ssh-keygen"),
                                         {QStringLiteral("-q"), QStringLiteral("-t"),
                                          QStringLiteral("ed25519"), QStringLiteral("-N"),
                                          QString(), QStringLiteral("-f"), path})
                            .ok());
            }
            options.identityFiles = {path};
        }
        SshSession session(options);
        QSignalSpy ok(&session, &SshSession::connected);
        QSignalSpy failed(&session, &SshSession::failed);
        session.connectToHost();
        QVERIFY(failed.wait(ConnectWaitMs));
        const QString message = failed.first().first().value<Error>().message;
        qInfo("%s", qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("authentication failed")), qPrintable(message));
        QVERIFY2(message.contains(mentions), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral(":15122")), qPrintable(message));
        QVERIFY(ok.isEmpty());
    }

    void unreachableFailsWithinTimeout_data()
    {
        QTest::addColumn<QString>("address");
        QTest::addColumn<int>("port");
        QTest::addColumn<int>("timeoutMs");
        QTest::newRow("closed port") << QStringLiteral("127.0.0.1") << 1 << 3000;
        QTest::newRow("no such lab host") << QStringLiteral("10.213.0.99") << 15122 << 2000;
    }

    void unreachableFailsWithinTimeout()
    {
        QFETCH(QString, address);
        QFETCH(int, port);
        QFETCH(int, timeoutMs);
        SshOptions options = optionsFor(firstHost());
        options.name.clear();
        options.host = address;
        options.port = port;
        options.connectTimeoutMs = timeoutMs;
        SshSession session(options);
        QSignalSpy failed(&session, &SshSession::failed);
        QElapsedTimer clock;
        clock.start();
        session.connectToHost();
        QVERIFY(failed.wait(timeoutMs + 5000));
        QVERIFY2(clock.elapsed() < timeoutMs + 1000, qPrintable(QString::number(clock.elapsed())));
        const QString message = failed.first().first().value<Error>().message;
        qInfo("%s after %lld ms", qPrintable(message), clock.elapsed());
        QVERIFY2(message.contains(QStringLiteral("%1:%2").arg(address).arg(port)),
                 qPrintable(message));
        QCOMPARE(session.state(), SshSession::State::Disconnected);
    }

    void dockerSocketIsForwarded_data() { hostnameOnEachHost_data(); }

    void dockerSocketIsForwarded()
    {
        QFETCH(QString, host);
        auto session = connected(optionsFor(host));
        QVERIFY(session);
        const QString remote = QStringLiteral("/var/run/docker.sock");
        QSignalSpy ready(session.get(), &SshSession::forwardReady);
        QSignalSpy failed(session.get(), &SshSession::forwardFailed);
        session->forwardUnixSocket(remote);
        QVERIFY(ready.wait(10000));
        QVERIFY(failed.isEmpty());
        QCOMPARE(ready.first().at(0).toString(), remote);
        const QString local = ready.first().at(1).toString();
        QCOMPARE(session->forwardedPath(remote), local);
        QVERIFY(QFileInfo(local).exists());
        // Only we may use it: its directory is private.
        const QFileInfo dir(QFileInfo(local).path());
        QCOMPARE(dir.permissions() & (QFile::ReadGroup | QFile::WriteGroup | QFile::ExeGroup |
                                      QFile::ReadOther | QFile::WriteOther | QFile::ExeOther),
                 QFile::Permissions());

        const QByteArray ping = httpOverLocalSocket(local, "/_ping");
        QVERIFY2(ping.startsWith("HTTP/1.0 200") || ping.startsWith("HTTP/1.1 200"),
                 ping.constData());
        QCOMPARE(bodyOf(ping), QByteArray("OK"));

        // That host's own engine, not any engine.
        const QByteArray info = httpOverLocalSocket(local, "/info");
        const QJsonObject json = QJsonDocument::fromJson(bodyOf(info)).object();
        QVERIFY2(json.value(QStringLiteral("Name")).toString() == host,
                 QByteArray(QByteArray::number(info.size()) + " bytes: " + info.left(300) +
                            " ... " + info.right(200))
                     .constData());

        session->disconnectFromHost();
        QTRY_VERIFY_WITH_TIMEOUT(!QFileInfo::exists(local), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(!QFileInfo::exists(dir.filePath()), 5000);
        QCOMPARE(session->state(), SshSession::State::Disconnected);
    }

    void forwardHandlesHalfClose()
    {
        auto session = connected(optionsFor(firstHost()));
        QVERIFY(session);
        QSignalSpy ready(session.get(), &SshSession::forwardReady);
        session->forwardUnixSocket(QStringLiteral("/var/run/docker.sock"));
        QVERIFY(ready.wait(10000));
        const QByteArray local = QFile::encodeName(ready.first().at(1).toString());

        // A client that sends its request, then shuts its sending side: the
        // answer must still come back, and then EOF.
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        sockaddr_un addr = {};
        addr.sun_family = AF_UNIX;
        qstrncpy(addr.sun_path, local.constData(), sizeof addr.sun_path);
        QVERIFY(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
        const QByteArray request = "GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
        QCOMPARE(::write(fd, request.constData(), size_t(request.size())), ssize_t(request.size()));
        QCOMPARE(::shutdown(fd, SHUT_WR), 0);
        timeval tv{10, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        QByteArray response;
        char buffer[4096];
        for (;;) {
            // The session's worker runs on its own thread, so a blocking read here is fine.
            const ssize_t n = ::read(fd, buffer, sizeof buffer);
            if (n <= 0)
                break;
            response.append(buffer, n);
        }
        ::close(fd);
        QVERIFY2(response.contains(" 200 "), response.constData());
        QCOMPARE(bodyOf(response), QByteArray("OK"));
    }

    void missingRemoteSocketFails()
    {
        auto session = connected(optionsFor(firstHost()));
        QVERIFY(session);
        QSignalSpy ready(session.get(), &SshSession::forwardReady);
        QSignalSpy failed(session.get(), &SshSession::forwardFailed);
        session->forwardUnixSocket(QStringLiteral("/run/pilothouse-no-such.sock"));
        QVERIFY(failed.wait(10000));
        const QString message = failed.first().at(1).value<Error>().message;
        qInfo("%s", qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("/run/pilothouse-no-such.sock")),
                 qPrintable(message));
        QVERIFY(ready.isEmpty());
        // The session itself is fine.
        SshExecJob *job = session->exec(QStringLiteral("true"), 10000);
        QVERIFY(waitFinished(job, 15000));
        QCOMPARE(job->exitCode(), 0);
    }

    void disconnectEndsEverything()
    {
        auto session = connected(optionsFor(firstHost()));
        QVERIFY(session);
        SshExecJob *running = session->exec(QStringLiteral("echo started; sleep 30"), 60000);
        QSignalSpy disconnected(session.get(), &SshSession::disconnected);
        QSignalSpy started(running, &SshExecJob::stdoutData);
        QVERIFY(started.wait(10000));
        session->disconnectFromHost();
        QVERIFY(waitFinished(running, 5000));
        QVERIFY(!running->error().message.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, 5000);
        QVERIFY(disconnected.first().first().value<Error>().message.isEmpty());
        QCOMPARE(session->state(), SshSession::State::Disconnected);

        SshExecJob *late = session->exec(QStringLiteral("true"));
        QVERIFY(waitFinished(late, 5000));
        QVERIFY2(late->error().message.contains(QStringLiteral("not connected")),
                 qPrintable(late->error().message));

        // And it can connect again.
        QSignalSpy ok(session.get(), &SshSession::connected);
        session->connectToHost();
        QVERIFY(ok.wait(ConnectWaitMs));
        SshExecJob *again = session->exec(QStringLiteral("echo back"), 10000);
        QVERIFY(waitFinished(again, 15000));
        QCOMPARE(again->standardOutput(), QByteArray("back\n"));
    }

    void sshConfigIsHonoured()
    {
        // The lab's own ssh config maps the alias to address, port, user, key
        // and known_hosts; nothing explicit is given here.
        SshOptions options;
        options.host = firstHost();
        options.sshConfigFile = QFileInfo(labKnownHosts()).path() + QStringLiteral("/config");
        QVERIFY(QFileInfo::exists(options.sshConfigFile));
        SshSession session(options);
        QSignalSpy unknown(&session, &SshSession::hostKeyUnknown);
        QSignalSpy failed(&session, &SshSession::failed);
        session.connectToHost();
        SshExecJob *job = session.exec(QStringLiteral("hostname"), 15000);
        QVERIFY(waitFinished(job, 20000));
        QVERIFY2(job->error().message.isEmpty(), qPrintable(job->error().message));
        QCOMPARE(job->standardOutput().trimmed(), firstHost().toUtf8());
        QVERIFY(unknown.isEmpty());
        QVERIFY(failed.isEmpty());
    }

    void explicitValuesWinOverSshConfig()
    {
        SshOptions options = optionsFor(firstHost());
        const QString config = m_tmp.filePath(QStringLiteral("misleading_config"));
        QVERIFY(writeFile(config, QStringLiteral("Host %1\n  Port 1\n  User nobody\n"
                                                 "  UserKnownHostsFile /nonexistent/known_hosts\n")
                                      .arg(options.host)
                                      .toUtf8()));
        options.sshConfigFile = config;
        auto session = connected(options);
        QVERIFY(session);
        SshExecJob *job = session->exec(QStringLiteral("id -un"), 10000);
        QVERIFY(waitFinished(job, 15000));
        QCOMPARE(job->standardOutput().trimmed(), QByteArray("root"));

        // And the configuration is really read: without explicit values it misleads.
        options.port = 0;
        options.connectTimeoutMs = 3000;
        SshSession misled(options);
        QSignalSpy failed(&misled, &SshSession::failed);
        misled.connectToHost();
        QVERIFY(failed.wait(10000));
        const QString message = failed.first().first().value<Error>().message;
        QVERIFY2(message.contains(QStringLiteral(":1")), qPrintable(message));
    }

    void largeOutputArrivesWhole()
    {
        auto session = connected(optionsFor(firstHost()));
        QVERIFY(session);
        SshExecJob *job =
            session->exec(QStringLiteral("head -c 3000000 /dev/zero | base64 -w0"), 30000);
        QVERIFY(waitFinished(job, 35000));
        QCOMPARE(job->exitCode(), 0);
        const QByteArray expected = QByteArray(3000000, '\0').toBase64();
        QCOMPARE(job->standardOutput().size(), expected.size());
        QVERIFY(job->standardOutput() == expected);
    }

    void forwardCarriesDataBothWaysWithHalfClose()
    {
        auto session = connected(optionsFor(firstHost()));
        QVERIFY(session);
        // A throwaway echo server on the host's private /run: it echoes the
        // first connection that sends data, half-closes after the client's
        // EOF, removes its socket and prints the byte count.
        const QString path = QStringLiteral("/run/pilothouse-echo-%1.sock").arg(::getpid());
        const QString script = QStringLiteral("import os,socket,sys\n"
                                              "p=sys.argv[1]\n"
                                              "s=socket.socket(socket.AF_UNIX)\n"
                                              "s.bind(p); s.listen(4)\n"
                                              "print(\"ready\",flush=True)\n"
                                              "while True:\n"
                                              "    c,_=s.accept(); n=0\n"
                                              "    while True:\n"
                                              "        d=c.recv(65536)\n"
                                              "        if not d: break\n"
                                              "        c.sendall(d); n+=len(d)\n"
                                              "    c.shutdown(socket.SHUT_WR); c.close()\n"
                                              "    if n: break\n"
                                              "os.unlink(p)\n"
                                              "print(n,flush=True)\n");
        SshExecJob *server =
            session->exec(QStringLiteral("/usr/bin/python3 -c '%1' %2").arg(script, path), 60000);
        QSignalSpy serverOut(server, &SshExecJob::stdoutData);
        QTRY_VERIFY_WITH_TIMEOUT(
            server->standardOutput().startsWith("ready\n") || server->isFinished(), 10000);
        QVERIFY2(!server->isFinished(), server->standardError().constData());

        QSignalSpy ready(session.get(), &SshSession::forwardReady);
        session->forwardUnixSocket(path);
        QVERIFY(ready.wait(10000));
        const QByteArray local = QFile::encodeName(ready.first().at(1).toString());

        QByteArray payload(8 * 1024 * 1024, Qt::Uninitialized);
        QRandomGenerator generator(4242);
        generator.fillRange(reinterpret_cast<quint32 *>(payload.data()), payload.size() / 4);

        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        QVERIFY(fd >= 0);
        sockaddr_un addr = {};
        addr.sun_family = AF_UNIX;
        qstrncpy(addr.sun_path, local.constData(), sizeof addr.sun_path);
        QVERIFY(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
        // The worker runs on its own thread: this thread may poll and block.
        qsizetype sent = 0;
        bool shut = false;
        bool eof = false;
        QByteArray received;
        char buffer[65536];
        QElapsedTimer clock;
        clock.start();
        while (!eof && clock.elapsed() < 30000) {
            pollfd p{fd, short(POLLIN | (sent < payload.size() ? POLLOUT : 0)), 0};
            ::poll(&p, 1, 1000);
            if ((p.revents & POLLOUT) && sent < payload.size()) {
                const ssize_t n =
                    ::send(fd, payload.constData() + sent,
                           size_t(qMin<qsizetype>(65536, payload.size() - sent)), MSG_NOSIGNAL);
                if (n > 0)
                    sent += n;
            }
            if (sent == payload.size() && !shut) {
                QCOMPARE(::shutdown(fd, SHUT_WR), 0);
                shut = true;
            }
            if (p.revents & (POLLIN | POLLHUP)) {
                const ssize_t n = ::read(fd, buffer, sizeof buffer);
                if (n > 0)
                    received.append(buffer, n);
                else if (n == 0)
                    eof = true;
            }
        }
        ::close(fd);
        const double seconds = clock.elapsed() / 1000.0;
        QVERIFY2(eof, qPrintable(QStringLiteral("no EOF after %1 of %2 bytes back")
                                     .arg(received.size())
                                     .arg(payload.size())));
        QCOMPARE(received.size(), payload.size());
        QVERIFY(received == payload);
        qInfo("8 MiB echoed through the forward in %.2f s", seconds);

        QVERIFY(waitFinished(server, 10000));
        QCOMPARE(server->exitCode(), 0);
        QCOMPARE(server->standardOutput(),
                 QByteArray("ready\n" + QByteArray::number(payload.size()) + '\n'));
    }

    void idleSessionDoesNotSpin()
    {
        auto session = connected(optionsFor(firstHost()));
        QVERIFY(session);
        QSignalSpy ready(session.get(), &SshSession::forwardReady);
        session->forwardUnixSocket(QStringLiteral("/var/run/docker.sock"));
        QVERIFY(ready.wait(10000));
        SshExecJob *job = session->exec(QStringLiteral("true"), 10000);
        QVERIFY(waitFinished(job, 15000));
        // An idle client connection through the forward, as curl keeps one alive.
        QLocalSocket idleClient;
        idleClient.connectToServer(ready.first().at(1).toString());
        QVERIFY(idleClient.waitForConnected(5000));
        idleClient.write("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(
            idleClient.bytesAvailable() > 0 || idleClient.waitForReadyRead(100), 5000);
        QVERIFY(idleClient.readAll().contains("OK"));

        // A measuring window, not a synchronisation: an idle connection must
        // leave the CPU alone (a notifier left enabled would spin).
        rusage before = {};
        ::getrusage(RUSAGE_SELF, &before);
        QElapsedTimer clock;
        clock.start();
        QTest::qWait(2000);
        rusage after = {};
        ::getrusage(RUSAGE_SELF, &after);
        auto ms = [](const rusage &r) {
            return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000.0 +
                   (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000.0;
        };
        const double cpu = ms(after) - ms(before);
        qInfo("idle: %.1f ms CPU in %lld ms", cpu, clock.elapsed());
        QVERIFY2(cpu < 200, qPrintable(QString::number(cpu)));
        QCOMPARE(idleClient.state(), QLocalSocket::ConnectedState); // kept alive all along
    }

    void stopWhileConnecting()
    {
        SshOptions options = optionsFor(firstHost());
        options.host = QStringLiteral("10.213.0.99");
        options.connectTimeoutMs = 5000;

        SshSession session(options);
        QSignalSpy ok(&session, &SshSession::connected);
        QSignalSpy failed(&session, &SshSession::failed);
        session.connectToHost();
        QCOMPARE(session.state(), SshSession::State::Connecting);
        SshExecJob *job = session.exec(QStringLiteral("true"), 10000);
        session.disconnectFromHost();
        QCOMPARE(session.state(), SshSession::State::Disconnected);
        QVERIFY(waitFinished(job, 2000));
        QVERIFY(!job->error().message.isEmpty());
        QVERIFY(ok.isEmpty());

        // Destroying a session in the middle of a connect returns at once.
        auto doomed = std::make_unique<SshSession>(options);
        doomed->connectToHost();
        QElapsedTimer clock;
        clock.start();
        doomed.reset();
        QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed())));
    }

    void agentKeysAreUsed()
    {
        // Our own agent, holding the lab key; the session is given no key file.
        const QString agentSocket = m_tmp.filePath(QStringLiteral("agent.sock"));
        QProcess agent;
        agent.start(QStringLiteral("ssh-agent"),
                    {QStringLiteral("-D"), QStringLiteral("-a"), agentSocket});
        QVERIFY(agent.waitForStarted(5000));
        auto stopAgent = qScopeGuard([&agent] {
            agent.kill();
            agent.waitForFinished(2000);
        });
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(agentSocket), 5000);

        SshOptions options = optionsFor(firstHost());
        const QString key = options.identityFiles.value(0);
        options.identityFiles.clear();
        options.useSshConfig = false;

        // Without the agent (and with no default keys in ~/.ssh) nothing works...
        {
            SshOptions noAgent = options;
            noAgent.useAgent = false;
            SshSession session(noAgent);
            QSignalSpy failed(&session, &SshSession::failed);
            session.connectToHost();
            QVERIFY(failed.wait(ConnectWaitMs));
            QVERIFY(failed.first().first().value<Error>().message.contains(
                QStringLiteral("authentication failed")));
        }

        QProcess add;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("SSH_AUTH_SOCK"), agentSocket);
        add.setProcessEnvironment(env);
        add.start(QStringLiteral("ssh-add"), {key});
        QVERIFY(add.waitForFinished(10000));
        QCOMPARE(add.exitCode(), 0);

        // ...with it, the agent's key is enough.
        const QByteArray previous = qgetenv("SSH_AUTH_SOCK");
        qputenv("SSH_AUTH_SOCK", QFile::encodeName(agentSocket));
        auto restore = qScopeGuard([&previous] {
            if (previous.isEmpty())
                qunsetenv("SSH_AUTH_SOCK");
            else
                qputenv("SSH_AUTH_SOCK", previous);
        });
        auto session = connected(options);
        QVERIFY(session);
        SshExecJob *job = session->exec(QStringLiteral("hostname"), 10000);
        QVERIFY(waitFinished(job, 15000));
        QCOMPARE(job->standardOutput().trimmed(), firstHost().toUtf8());
    }

    void reconnectAfterFailure()
    {
        SshOptions options = optionsFor(firstHost());
        options.knownHostsFile = m_tmp.filePath(QStringLiteral("reconnect_known_hosts"));
        SshSession session(options);
        QSignalSpy unknown(&session, &SshSession::hostKeyUnknown);
        QSignalSpy failed(&session, &SshSession::failed);
        QSignalSpy ok(&session, &SshSession::connected);
        session.connectToHost();
        QVERIFY(unknown.wait(ConnectWaitMs));
        session.rejectHostKey();
        QVERIFY(failed.wait(ConnectWaitMs));

        session.connectToHost();
        QVERIFY(unknown.wait(ConnectWaitMs));
        session.acceptHostKey(false);
        QVERIFY(ok.wait(ConnectWaitMs));
        SshExecJob *job = session.exec(QStringLiteral("true"), 10000);
        QVERIFY(waitFinished(job, 15000));
        QCOMPARE(job->exitCode(), 0);
    }

    void otherKeyTypeIsRefused()
    {
        // known_hosts lists only an RSA key for the host; its sshd presents ed25519.
        SshOptions options = optionsFor(firstHost());
        const QString rsaKey = m_tmp.filePath(QStringLiteral("other_rsa"));
        QVERIFY(LabAccess::local(QStringLiteral("ssh-keygen"),
                                 {QStringLiteral("-q"), QStringLiteral("-t"), QStringLiteral("rsa"),
                                  QStringLiteral("-b"), QStringLiteral("2048"),
                                  QStringLiteral("-N"), QString(), QStringLiteral("-f"), rsaKey})
                    .ok());
        const QString rsaFingerprint = fingerprintOfPublicKeyFile(rsaKey + QStringLiteral(".pub"));
        const QList<QByteArray> fields = readFile(rsaKey + QStringLiteral(".pub")).split(' ');
        const QString knownHosts = m_tmp.filePath(QStringLiteral("other_known_hosts"));
        QVERIFY(writeFile(knownHosts, tokenOf(options).toUtf8() + ' ' + fields.at(0) + ' ' +
                                          fields.at(1) + '\n'));
        options.knownHostsFile = knownHosts;

        SshSession session(options);
        QSignalSpy unknown(&session, &SshSession::hostKeyUnknown);
        QSignalSpy ok(&session, &SshSession::connected);
        QSignalSpy failed(&session, &SshSession::failed);
        session.connectToHost();
        QVERIFY(failed.wait(ConnectWaitMs));
        const QString message = failed.first().first().value<Error>().message;
        qInfo("%s", qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("%1:%2").arg(options.host).arg(options.port)),
                 qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("ssh-rsa ") + rsaFingerprint),
                 qPrintable(message));
        QVERIFY2(message.contains(sshKeygenFingerprint(labKnownHosts(), tokenOf(options))),
                 qPrintable(message));
        QVERIFY(unknown.isEmpty());
        QVERIFY(ok.isEmpty());
    }

    void idleConnectionIsKeptAlive()
    {
        // A silent peer is noticed by TCP keepalive: the kernel shows the timer.
        const SshOptions options = optionsFor(firstHost());
        auto session = connected(options);
        QVERIFY(session);
        const LabAccess::Run ss = LabAccess::local(
            QStringLiteral("ss"),
            {QStringLiteral("-tno"), QStringLiteral("state"), QStringLiteral("established"),
             QStringLiteral("dst"), QStringLiteral("%1:%2").arg(options.host).arg(options.port)});
        QVERIFY2(ss.ok(), ss.err.constData());
        QVERIFY2(ss.out.contains("timer:(keepalive"), ss.out.constData());
    }
};

QTEST_GUILESS_MAIN(TestSshSession)
#include "tst_sshsession.moc"
