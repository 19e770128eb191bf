// `pilothouse pgpool-repair` on the lab, against a real stale pgpool: in one
// pgpool container the stack's reconciler (pgpool_reconcile.py, which would
// otherwise re-attach within ~4 s) is paused with SIGSTOP, and the primary
// pg-1 is detached there through PCP, so that instance refuses writes while
// the other one and the databases are fine: the "stale pgpool" the console
// must find and repair. The dry run must name the problem and change nothing;
// the repair must attach pg-1 there again, and writes must go through that
// pgpool afterwards. The reconciler is resumed whatever happens.
//
// Changes the cluster (only pgpool's view of it): run it under the lab's lock,
//   flock /var/lib/pilothouse-lab/cluster.flock ctest -R tst_pgpoolrepair_lab

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include "tests/integration/labaccess.h"

class TestPgpoolRepairLab final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;
    QString m_host; // the pgpool host the test breaks

    struct Run
    {
        int exitCode = -1;
        QJsonObject report;
        QByteArray progress;
    };

    Run repair(const QString &name, bool dryRun)
    {
        QStringList args{QStringLiteral("pgpool-repair"),
                         QStringLiteral("--inventory"),
                         m_lab.inventory().path,
                         QStringLiteral("--reason"),
                         QStringLiteral("tst_pgpoolrepair_lab"),
                         QStringLiteral("--json")};
        if (dryRun)
            args.append(QStringLiteral("--dry-run"));
        const auto r = LabAccess::local(QStringLiteral(PILOTHOUSE_BINARY), args, 180000);
        Run out;
        out.exitCode = r.exitCode;
        out.report = QJsonDocument::fromJson(r.out).object();
        out.progress = r.err;
        QFile file(
            QStringLiteral(PILOTHOUSE_TEST_OUTPUT_DIR "/pgpool-repair-%1-%2.json")
                .arg(name, QDateTime::currentDateTimeUtc().toString(QStringLiteral("hhmmss"))));
        if (file.open(QIODevice::WriteOnly))
            file.write(r.out);
        return out;
    }

    // A shell command inside the pgpool container on m_host, as postgres.
    LabAccess::Run inPgpool(const QString &script)
    {
        QString quoted = script;
        quoted.replace(u'\'', QStringLiteral("'\\''"));
        return m_lab.ssh(
            m_host,
            QStringLiteral("c=$(docker ps -q -f label=com.docker.swarm.service.name=%1_%2 | "
                           "head -n 1); [ -n \"$c\" ] || { echo 'no pgpool container' >&2; "
                           "exit 3; }; docker exec -u postgres \"$c\" bash -c '%3'")
                .arg(m_lab.inventory().settings.stack, m_lab.inventory().settings.pgpoolService,
                     quoted),
            30000);
    }

    QString pcp(const QString &command)
    {
        const auto r =
            inPgpool(QStringLiteral("PCPPASSFILE=/run/pgpool/etc/pcppass %1 -h 127.0.0.1 -p %2 -U "
                                    "admin -w")
                         .arg(command)
                         .arg(m_lab.inventory().settings.pcpPort));
        if (!r.ok())
            qWarning("pcp %s: %s", qPrintable(command), r.err.constData());
        return QString::fromUtf8(r.out).trimmed();
    }

    // pcp_node_info's status word of backend `id` in the broken pgpool ("up", "waiting", "down").
    QString statusOf(int id)
    {
        const QStringList f = pcp(QStringLiteral("pcp_node_info -n %1").arg(id)).split(u' ');
        return f.size() > 4 ? f.at(4) : QString();
    }

    bool reconciler(const QString &signal)
    {
        const auto r = inPgpool(
            QStringLiteral("pid=$(pgrep -o -f pgpool_reconcile.py) && kill -%1 $pid && echo $pid")
                .arg(signal));
        if (!r.ok())
            qWarning("reconciler %s: %s %s", qPrintable(signal), r.out.constData(),
                     r.err.constData());
        return r.ok();
    }

    // A write through the broken pgpool (its own sr_check user may only read:
    // a session and `SELECT pg_is_in_recovery()` on the primary say enough).
    QString primaryAnswer()
    {
        const auto r = inPgpool(QStringLiteral(
            "export PGPASSWORD=$(cat \"$PGPOOL_SR_CHECK_PASSWORD_FILE\") PGCONNECT_TIMEOUT=3; "
            "psql -h 127.0.0.1 -p \"${PGPOOL_PORT_NUMBER:-9999}\" -U \"$PGPOOL_SR_CHECK_USER\" "
            "-d postgres -XAtqc '/*NO LOAD BALANCE*/ SELECT pg_is_in_recovery()' 2>&1"));
        return QString::fromUtf8(r.out).trimmed();
    }

    static QJsonObject foundFor(const QJsonObject &report, const QString &pgpool)
    {
        for (const QJsonValue &v : report.value(QStringLiteral("found")).toArray()) {
            if (v.toObject().value(QStringLiteral("pgpool")).toString() == pgpool)
                return v.toObject();
        }
        return {};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        QVERIFY2(m_lab.ensurePrimary(QStringLiteral("pg-1")), "the lab is not healthy on pg-1");
        const QStringList hosts = m_lab.nodesOf(m_lab.inventory().settings.pgpoolService);
        QVERIFY2(!hosts.isEmpty(), "no running pgpool task");
        m_host = hosts.constFirst();
    }

    void aHealthyClusterNeedsNothing()
    {
        const Run dry = repair(QStringLiteral("healthy-dry"), true);
        QVERIFY2(dry.exitCode == 0, dry.progress.constData());
        QCOMPARE(dry.report.value(QStringLiteral("primary")).toString(), QStringLiteral("pg-1"));
        const QJsonArray found = dry.report.value(QStringLiteral("found")).toArray();
        QCOMPARE(found.size(), 2);
        for (const QJsonValue &v : found)
            QVERIFY2(v.toObject().value(QStringLiteral("problems")).toArray().isEmpty(),
                     QJsonDocument(v.toObject()).toJson().constData());
        const QJsonArray sessions = dry.report.value(QStringLiteral("sessions")).toArray();
        QCOMPARE(sessions.size(), 2);
        for (const QJsonValue &v : sessions)
            QVERIFY2(v.toString().contains(u"sessions work"), qPrintable(v.toString()));
        QVERIFY(dry.report.value(QStringLiteral("repairs")).toArray().isEmpty());
    }

    void aStalePgpoolIsFoundAndRepaired()
    {
        QCOMPARE(primaryAnswer(), QStringLiteral("f"));
        QVERIFY(reconciler(QStringLiteral("STOP")));
        pcp(QStringLiteral("pcp_detach_node -n 0"));
        // Left alone it stays detached: auto_failback only re-attaches standbys.
        QTest::qWait(8000);
        QCOMPARE(statusOf(0), QStringLiteral("down"));
        QVERIFY2(primaryAnswer() != u"f", "writes still go through the stale pgpool");

        const QString key = m_lab.inventory().settings.pgpoolService + u'@' + m_host;
        const Run dry = repair(QStringLiteral("stale-dry"), true);
        QVERIFY2(dry.exitCode == 0, dry.progress.constData());
        const QJsonObject seen = foundFor(dry.report, key);
        QVERIFY2(!seen.isEmpty(), QJsonDocument(dry.report).toJson().constData());
        QCOMPARE(seen.value(QStringLiteral("attach")).toArray(), QJsonArray{0});
        QVERIFY2(seen.value(QStringLiteral("problems"))
                     .toArray()
                     .first()
                     .toString()
                     .contains(u"pg-1 is down here but is a serving primary"),
                 QJsonDocument(seen).toJson().constData());
        QCOMPARE(statusOf(0), QStringLiteral("down")); // the dry run changed nothing

        const Run fix = repair(QStringLiteral("stale"), false);
        QVERIFY2(fix.exitCode == 0, fix.progress.constData());
        const QJsonArray repairs = fix.report.value(QStringLiteral("repairs")).toArray();
        QCOMPARE(repairs.size(), 1);
        QVERIFY2(repairs.first().toString().startsWith(key) &&
                     repairs.first().toString().contains(u"attached node 0"),
                 qPrintable(repairs.first().toString()));
        QVERIFY(statusOf(0) == u"up" || statusOf(0) == u"waiting");
        QCOMPARE(primaryAnswer(), QStringLiteral("f"));
    }

    void cleanup()
    {
        if (!m_host.isEmpty())
            reconciler(QStringLiteral("CONT"));
    }

    void cleanupTestCase()
    {
        // Whatever failed above, leave the lab as it was found.
        if (m_host.isEmpty())
            return;
        pcp(QStringLiteral("pcp_attach_node -n 0"));
        QVERIFY(m_lab.open());
    }
};

QTEST_GUILESS_MAIN(TestPgpoolRepairLab)
#include "tst_pgpoolrepair_lab.moc"
