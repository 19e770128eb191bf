// Docker's multiplexed exec stream, as the lab's engine sent it
// (tests/fixtures/docker/exec-start.raw).

#include "app/connectors/docker/dockerstreamdemuxer.h"

#include <QFile>
#include <QTest>

using namespace Pilothouse;

class TestDockerStreamDemuxer final : public QObject
{
    Q_OBJECT

private:
    static QByteArray captured()
    {
        QFile f(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/docker/exec-start.raw"));
        if (!f.open(QIODevice::ReadOnly))
            qFatal("missing fixture exec-start.raw");
        return f.readAll();
    }

private Q_SLOTS:
    void wholeStream()
    {
        DockerStreamDemuxer d;
        QVERIFY(d.feed(captured()));
        QCOMPARE(d.stdOut(), QByteArray("pg-1\ndone\n"));
        QCOMPARE(d.stdErr(), QByteArray("to-stderr\n"));
        QVERIFY(!d.hasPartialFrame());
        QVERIFY(d.error().isEmpty());
    }

    void byteByByte()
    {
        // Sockets split anywhere, headers included.
        const QByteArray bytes = captured();
        DockerStreamDemuxer d;
        for (char c : bytes)
            QVERIFY(d.feed(QByteArray(1, c)));
        QCOMPARE(d.stdOut(), QByteArray("pg-1\ndone\n"));
        QCOMPARE(d.stdErr(), QByteArray("to-stderr\n"));
    }

    void truncated()
    {
        const QByteArray bytes = captured();
        DockerStreamDemuxer d;
        QVERIFY(d.feed(bytes.left(bytes.size() - 2)));
        // The engine sent two frames: stderr "to-stderr\n", then stdout "pg-1\ndone\n"
        // (two writes of the command that reached the engine together). Only the first is whole.
        QCOMPARE(d.stdErr(), QByteArray("to-stderr\n"));
        QCOMPARE(d.stdOut(), QByteArray());
        QVERIFY(d.hasPartialFrame());
    }

    void emptyAndLargeFrames()
    {
        QByteArray bytes("\x01\0\0\0\0\0\0\0", 8); // empty stdout frame
        const QByteArray big(70000, 'x');
        bytes += QByteArray("\x02\0\0\0\0\x01\x11\x70", 8) + big; // 0x011170 = 70000
        DockerStreamDemuxer d;
        QVERIFY(d.feed(bytes));
        QCOMPARE(d.stdOut(), QByteArray());
        QCOMPARE(d.stdErr(), big);
        QVERIFY(!d.hasPartialFrame());
    }

    void notMultiplexed()
    {
        // With a TTY the engine sends plain text: no frame headers.
        DockerStreamDemuxer d;
        QVERIFY(!d.feed("root@pg-1:/# hostname\r\n"));
        QVERIFY(d.error().contains(QStringLiteral("not Docker's multiplexed stream")));
        QVERIFY(!d.feed(captured())); // stays failed
    }
};

QTEST_GUILESS_MAIN(TestDockerStreamDemuxer)
#include "tst_dockerstreamdemuxer.moc"
