// `pilothouse rejoin` on the lab, against a real diverged former primary:
// pg-1 is switched over to pg-2 and left stopped (supervisor held), then
// started alone on its Unix socket as the primary it was and written to, so
// its WAL goes past the point where pg-2's timeline forked; it keeps running
// there, isolated (as an old primary cut off from the others would). The dry
// run must show that fork and the WAL at risk and change nothing; the rejoin
// must stop it and rewind it into a standby streaming from pg-2; then pg-1 is
// switched back and the cluster must be healthy on pg-1 with 3 nodes, as it
// started. A healthy standby is refused (nothing to rejoin).
//
// Why it keeps running: the stack's Docker health check (pg_isready, every 5 s,
// 6 retries) does not know the supervisor's hold mark, so Swarm replaces a pg
// task whose postgres stays down for ~30 s: measured once, in the middle of the
// rewind, when the dry run ran against a stopped pg-1.
//
// Changes the cluster: run it under the lab's lock,
//   flock /var/lib/pilothouse-lab/cluster.flock ctest -R tst_rejoin_lab

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QElapsedTimer>
#include <QTest>

#include "tests/integration/labaccess.h"
#include <libpq-fe.h>

class TestRejoinLab final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;

    struct Run
    {
        int exitCode = -1;
        QJsonObject report;
        QByteArray progress;
    };

    Run pilothouse(const QString &name, const QStringList &args, int timeoutMs = 300000)
    {
        const auto r = LabAccess::local(QStringLiteral(PILOTHOUSE_BINARY), args, timeoutMs);
        Run out;
        out.exitCode = r.exitCode;
        out.report = QJsonDocument::fromJson(r.out).object();
        out.progress = r.err;
        QFile file(QStringLiteral(PILOTHOUSE_TEST_OUTPUT_DIR "/%1-%2.json")
                       .arg(name, QDateTime::currentDateTimeUtc().toString(QStringLiteral("hhmmss"))));
        if (file.open(QIODevice::WriteOnly))
            file.write(r.out);
        return out;
    }

    Run rejoin(const QString &node, bool dryRun)
    {
        QStringList args{QStringLiteral("rejoin"),      QStringLiteral("--node"),  node,
                         QStringLiteral("--inventory"), m_lab.inventory().path, QStringLiteral("--reason"),
                         QStringLiteral("tst_rejoin_lab"), QStringLiteral("--json")};
        if (dryRun)
            args.append(QStringLiteral("--dry-run"));
        return pilothouse(QStringLiteral("rejoin-%1%2").arg(node, dryRun ? QStringLiteral("-dry") : QString()),
                          args);
    }

    Run switchover(const QString &to, bool leaveStopped = false)
    {
        QStringList args{QStringLiteral("switchover"), QStringLiteral("--to"), to,
                         QStringLiteral("--inventory"), m_lab.inventory().path,
                         QStringLiteral("--reason"), QStringLiteral("tst_rejoin_lab"),
                         QStringLiteral("--json"), QStringLiteral("--no-app")};
        if (leaveStopped)
            args.append(QStringLiteral("--leave-old-primary-stopped"));
        return pilothouse(QStringLiteral("rejoin-switchover-to-%1").arg(to), args);
    }

    QString addressOf(const QString &node)
    {
        const auto &s = m_lab.inventory().settings;
        const auto *h = m_lab.inventory().host(s.postgresNodes.value(node));
        return h ? h->address : node;
    }

    QString scalar(const QString &address, int port, const char *sql)
    {
        const auto &s = m_lab.inventory().settings;
        const QByteArray info =
            QStringLiteral("host=%1 port=%2 dbname=%3 user=%4 password=%5 connect_timeout=3")
                .arg(address)
                .arg(port)
                .arg(s.database, s.monitorUser, m_lab.secret(QStringLiteral("pg_monitor_password")))
                .toUtf8();
        PGconn *c = PQconnectdb(info.constData());
        QString value;
        if (PQstatus(c) == CONNECTION_OK) {
            PGresult *r = PQexec(c, sql);
            if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
                value = QString::fromUtf8(PQgetvalue(r, 0, 0));
            PQclear(r);
        }
        PQfinish(c);
        return value;
    }

    QString primaryNow()
    {
        QStringList primaries;
        for (const QString &n : m_lab.inventory().settings.postgresNodes.keys()) {
            if (scalar(addressOf(n), m_lab.inventory().settings.postgresPort,
                       "SELECT pg_is_in_recovery()") == u"f")
                primaries.append(n);
        }
        return primaries.size() == 1 ? primaries.constFirst() : QString();
    }

    QStringList unhealthy(const QString &primary)
    {
        QStringList why;
        const auto &s = m_lab.inventory().settings;
        for (const QString &n : s.postgresNodes.keys()) {
            const QString rec = scalar(addressOf(n), s.postgresPort, "SELECT pg_is_in_recovery()");
            if (n == primary) {
                if (rec != u"f")
                    why.append(n + QStringLiteral(" is not primary (") + rec + u')');
                continue;
            }
            const QString st = scalar(addressOf(n), s.postgresPort,
                                      "SELECT status || ' ' || sender_host FROM pg_stat_wal_receiver");
            if (rec != u"t" || st != QStringLiteral("streaming ") + primary)
                why.append(n + QStringLiteral(" is not streaming from ") + primary +
                           QStringLiteral(": ") + st);
        }
        if (primary != u"pg-1")
            return why;
        const auto status = LabAccess::local(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/lab/lab"),
                                             {QStringLiteral("status")}, 60000);
        if (!status.ok())
            why.append(QStringLiteral("lab status: ") + QString::fromUtf8(status.out.right(600)));
        return why;
    }

    // A command in the running container of pg-N's task, as postgres.
    LabAccess::Run inPg(const QString &node, const QString &script)
    {
        const QString host = m_lab.inventory().settings.postgresNodes.value(node);
        const QString stack = m_lab.inventory().settings.stack;
        QString quoted = script;
        quoted.replace(u'\'', QStringLiteral("'\\''"));
        return m_lab.ssh(host,
                         QStringLiteral("c=$(docker ps -q -f name=%1_%2. | head -n 1); "
                                        "docker exec -u postgres \"$c\" bash -c '%3'")
                             .arg(stack, node, quoted),
                         120000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.ensurePrimary(QStringLiteral("pg-1")), qPrintable(m_lab.error()));
        // An earlier fault test may still be healing; a lab that does not come
        // back healthy on pg-1 is a failure, never a skip.
        QTRY_VERIFY2_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-1")).isEmpty(),
                                  qPrintable(QStringLiteral("the lab is not healthy on pg-1: ") +
                                             unhealthy(QStringLiteral("pg-1")).join(QStringLiteral("; "))),
                                  240000);
    }

    void refusesAStreamingStandby()
    {
        const Run r = rejoin(QStringLiteral("pg-3"), true);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.report.value(QStringLiteral("error")).toString().contains(u"already streams"),
                 qPrintable(r.report.value(QStringLiteral("error")).toString()));
    }

    void rewindsADivergedFormerPrimary()
    {
        // pg-2 primary, pg-1 stopped with its supervisor held.
        const Run there = switchover(QStringLiteral("pg-2"), true);
        QVERIFY2(there.exitCode == 0, there.progress.right(3000).constData());
        QCOMPARE(primaryNow(), QStringLiteral("pg-2"));

        // pg-1 comes back alone as the primary it was (no standby.signal;
        // Unix socket only, nobody else can reach it) and takes writes: its
        // WAL now goes past the fork.
        const auto diverge = inPg(
            QStringLiteral("pg-1"),
            QStringLiteral(
                "set -e; d=${PGDATA:-/var/lib/pilothouse/data}; test -e /run/pilothouse/hold; "
                "test ! -e $d/standby.signal; "
                "pg_ctl -D $d -w -t 60 -l /dev/null -o \"-c listen_addresses=''\" start >/dev/null; "
                "psql -d postgres -XAtq -c 'CREATE TABLE IF NOT EXISTS tst_rejoin_diverged (i int)' "
                "-c 'INSERT INTO tst_rejoin_diverged SELECT generate_series(1, 50000)' "
                "-c 'SELECT pg_current_wal_lsn()'"));
        qInfo("pg-1 diverged: %s %s", diverge.out.trimmed().constData(), diverge.err.right(500).constData());
        QVERIFY2(diverge.ok(), diverge.err.right(1000).constData());

        // The dry run shows the fork and the WAL at risk, and changes nothing.
        const Run dry = rejoin(QStringLiteral("pg-1"), true);
        const QJsonObject fork = dry.report.value(QStringLiteral("fork")).toObject();
        qInfo("dry run: exit %d, fork %s on timeline %d, pg-1's WAL ends at %s, %lld bytes at risk, "
              "plan %s; pg_rewind: %s",
              dry.exitCode, qPrintable(fork.value(QStringLiteral("fork_lsn")).toString()),
              fork.value(QStringLiteral("common_timeline")).toInt(),
              qPrintable(fork.value(QStringLiteral("node_end_of_wal")).toString()),
              qlonglong(fork.value(QStringLiteral("wal_at_risk_bytes")).toDouble()),
              qPrintable(fork.value(QStringLiteral("plan")).toString()),
              qPrintable(fork.value(QStringLiteral("rewind_dry_run")).toString()));
        QVERIFY2(dry.exitCode == 0, dry.progress.right(3000).constData());
        QVERIFY(dry.report.value(QStringLiteral("dry_run")).toBool());
        QVERIFY(fork.value(QStringLiteral("diverged")).toBool());
        QVERIFY(!fork.value(QStringLiteral("fork_lsn")).toString().isEmpty());
        QVERIFY(fork.value(QStringLiteral("wal_at_risk_bytes")).toDouble() > 100000); // 50000 rows
        QCOMPARE(fork.value(QStringLiteral("plan")).toString(), QStringLiteral("rewind"));
        QVERIFY(fork.value(QStringLiteral("node_running")).toBool());
        // Nothing changed: still running alone on the old timeline.
        QCOMPARE(inPg(QStringLiteral("pg-1"),
                      QStringLiteral("psql -d postgres -XAtqc 'SELECT count(*) FROM tst_rejoin_diverged'"))
                     .out.trimmed(),
                 QByteArray("50000"));

        // The rejoin rewinds it into a standby of pg-2.
        const Run done = rejoin(QStringLiteral("pg-1"), false);
        qInfo("rejoin: exit %d, method %s, %.1f s (stop to streaming %.1f s)", done.exitCode,
              qPrintable(done.report.value(QStringLiteral("method")).toString()),
              done.report.value(QStringLiteral("duration_seconds")).toDouble(),
              done.report.value(QStringLiteral("rejoin_seconds")).toDouble());
        QVERIFY2(done.exitCode == 0, done.progress.right(4000).constData());
        QCOMPARE(done.report.value(QStringLiteral("method")).toString(), QStringLiteral("rewind"));
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-2")).isEmpty(), 60000);
        // What it wrote alone is gone.
        const auto gone = inPg(QStringLiteral("pg-1"),
                               QStringLiteral("psql -d postgres -XAtqc \"SELECT "
                                              "to_regclass('tst_rejoin_diverged') IS NULL\""));
        QCOMPARE(gone.out.trimmed(), QByteArray("t"));

        // And back: pg-1 primary again.
        const Run back = switchover(QStringLiteral("pg-1"));
        QVERIFY2(back.exitCode == 0, back.progress.right(3000).constData());
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-1")).isEmpty(), 60000);
    }

    void cleanupTestCase()
    {
        // Whatever failed above: pg-1 running and primary again, 3 healthy nodes.
        inPg(QStringLiteral("pg-1"), QStringLiteral("rm -f /run/pilothouse/hold"));
        for (int attempt = 0; attempt < 4; ++attempt) {
            const QString primary = primaryNow();
            if (primary == u"pg-1" && unhealthy(QStringLiteral("pg-1")).isEmpty())
                break;
            if (!primary.isEmpty() && primary != u"pg-1") {
                const Run r = switchover(QStringLiteral("pg-1"));
                if (r.exitCode == 0)
                    continue;
                qWarning("switching back to pg-1 failed (exit %d): %s", r.exitCode,
                         r.progress.right(2000).constData());
            }
            QTest::qWait(20000); // the supervisor rejoins a released node within ~15 s
        }
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-1")).isEmpty(), 90000);
    }
};

QTEST_GUILESS_MAIN(TestRejoinLab)
#include "tst_rejoin_lab.moc"
