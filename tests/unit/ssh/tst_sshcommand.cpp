// SshCommand's prefix, run by a real local login shell in its own session (as
// sshd runs a command): output, exit status and quoting are untouched, and
// closing stdin stops a command that is still running.

#include "app/connectors/ssh/sshcommand.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTest>

using namespace Pilothouse;

namespace {

// Like sshd: a new session (setsid), the login shell running the line.
void startLikeSshd(QProcess &p, const QByteArray &line,
                   const QString &shell = QStringLiteral("/bin/bash"))
{
    p.start(QStringLiteral("setsid"),
            {QStringLiteral("-w"), shell, QStringLiteral("-c"), QString::fromUtf8(line)});
}

} // namespace

class TestSshCommand final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void quotes()
    {
        QCOMPARE(SshCommand::shellQuote("plain"), QByteArray("'plain'"));
        QCOMPARE(SshCommand::shellQuote("it's"), QByteArray("'it'\\''s'"));
    }

    void behavesLikeTheCommand_data()
    {
        QTest::addColumn<QByteArray>("command");
        QTest::addColumn<QByteArray>("out");
        QTest::addColumn<QByteArray>("err");
        QTest::addColumn<int>("exitCode");
        QTest::newRow("exit code")
            << QByteArray("echo x >&2; exit 3") << QByteArray() << QByteArray("x\n") << 3;
        QTest::newRow("quotes and dollars")
            << QByteArray("a='it'\\''s'; echo \"$a $((1+2))\" '$HOME'")
            << QByteArray("it's 3 $HOME\n") << QByteArray() << 0;
        QTest::newRow("login shell syntax")
            << QByteArray("[[ -n x ]] && set -o pipefail && echo bash") << QByteArray("bash\n")
            << QByteArray() << 0;
        QTest::newRow("stdin is empty")
            << QByteArray("cat; echo done") << QByteArray("done\n") << QByteArray() << 0;
    }

    void behavesLikeTheCommand()
    {
        QFETCH(QByteArray, command);
        QFETCH(QByteArray, out);
        QFETCH(QByteArray, err);
        QFETCH(int, exitCode);
        QProcess p;
        startLikeSshd(p, SshCommand::stoppable(command));
        // stdin stays open, as over SSH until the channel closes.
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.readAllStandardOutput(), out);
        QCOMPARE(p.readAllStandardError(), err);
        QCOMPARE(p.exitCode(), exitCode);
    }

    void closingStdinStopsIt_data()
    {
        QTest::addColumn<QString>("shell");
        QTest::newRow("bash") << QStringLiteral("/bin/bash");
        QTest::newRow("dash") << QStringLiteral("/bin/sh");
    }

    void closingStdinStopsIt()
    {
        QFETCH(QString, shell);
        QProcess p;
        startLikeSshd(p, SshCommand::stoppable("echo started; sleep 30; echo never"), shell);
        QVERIFY(p.waitForReadyRead(10000));
        QCOMPARE(p.readAllStandardOutput(), QByteArray("started\n"));
        QElapsedTimer clock;
        clock.start();
        p.closeWriteChannel(); // what sshd does when the channel closes
        QVERIFY(p.waitForFinished(5000));
        QVERIFY2(clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(!p.readAllStandardOutput().contains("never"));
    }

    void backgroundChildrenOfAFinishedCommandSurvive()
    {
        // A command that ended normally must not have what it started killed
        // when the channel closes afterwards.
        const QByteArray marker = "/tmp/pilothouse-tst-sshcommand-" +
                                  QByteArray::number(QCoreApplication::applicationPid());
        QFile::remove(QString::fromUtf8(marker));
        QProcess p;
        startLikeSshd(p, SshCommand::stoppable("(sleep 1; touch " + marker +
                                               ") >/dev/null 2>&1 </dev/null & echo ok"));
        // As over SSH: the channel closes (stdin too) only after the command
        // ended and sshd reaped it; QProcess closes stdin once it finished.
        QVERIFY(p.waitForFinished(10000)); // setsid -w: waits for the shell only
        QCOMPARE(p.readAllStandardOutput(), QByteArray("ok\n"));
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(QString::fromUtf8(marker)), 5000);
        QFile::remove(QString::fromUtf8(marker));
    }
};

QTEST_GUILESS_MAIN(TestSshCommand)
#include "tst_sshcommand.moc"
