// The one-file archive PUT /containers/{id}/archive receives, read back by
// GNU tar (the real program) rather than by our own reader.

#include "app/connectors/docker/dockerarchive.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace Pilothouse;

class TestDockerArchive final : public QObject
{
    Q_OBJECT

private:
    // `tar` run on the archive in a fresh directory: its stdout, or a failure.
    static QByteArray tar(const QByteArray &archive, const QStringList &arguments, bool *ok)
    {
        QTemporaryDir dir;
        QFile f(dir.filePath(QStringLiteral("a.tar")));
        *ok = f.open(QIODevice::WriteOnly) && f.write(archive) == archive.size();
        f.close();
        QProcess p;
        p.setWorkingDirectory(dir.path());
        p.start(QStringLiteral("tar"), arguments + QStringList{QStringLiteral("-f"), f.fileName()});
        *ok = *ok && p.waitForFinished(10000) && p.exitCode() == 0;
        if (!*ok)
            qWarning() << p.readAllStandardError();
        return p.readAllStandardOutput();
    }

private Q_SLOTS:
    void contentComesBackWhole_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("short") << QByteArray("-----BEGIN CERTIFICATE-----\nabc\n");
        QTest::newRow("one block") << QByteArray(512, 'x');
        QTest::newRow("binary, blocks and a tail")
            << QByteArray(1300, '\0') + QByteArray("\xff\x01", 2);
    }

    void contentComesBackWhole()
    {
        QFETCH(QByteArray, content);
        const QByteArray archive = DockerArchive::singleFile(QStringLiteral("staged.pem"), content);
        QCOMPARE(archive.size() % 512, 0);
        bool ok = false;
        QCOMPARE(tar(archive, {QStringLiteral("-xO")}, &ok), content);
        QVERIFY(ok);
    }

    void nameModeAndOwnerAreThoseAsked()
    {
        bool ok = false;
        const QByteArray listing =
            tar(DockerArchive::singleFile(QStringLiteral("staged.pem"), "abc", 0600),
                {QStringLiteral("-tv"), QStringLiteral("--numeric-owner")}, &ok);
        QVERIFY(ok);
        // "-rw------- 0/0 3 2026-11-27 07:40 staged.pem"
        const QList<QByteArray> fields = listing.simplified().split(' ');
        QCOMPARE(fields.value(0), QByteArray("-rw-------"));
        QCOMPARE(fields.value(1), QByteArray("0/0"));
        QCOMPARE(fields.value(2), QByteArray("3"));
        QCOMPARE(fields.value(5), QByteArray("staged.pem"));
    }
};

QTEST_GUILESS_MAIN(TestDockerArchive)
#include "tst_dockerarchive.moc"
