// Drills on the lab (the Drill runbook the CLI and the wizard run, in this
// process), one per scenario: each must run to the end and leave the cluster
// healthy with pg-1 primary (checked by asking each server and each pgpool
// directly, and with `lab status`). The report is checked against the
// heartbeat writer's own samples: each path's longest write gap is recomputed
// from them, and the acknowledged heartbeats missing on the primary are
// counted again from the table itself. While the first drill holds the
// cluster's operation lock, a second drill (its own lock object and lease, as
// another console would have) must be refused naming the holder, before it
// injects anything.
//
// Scenarios: $PILOTHOUSE_DRILL_SCENARIOS (comma-separated), else every one.
// Changes the cluster: run it under the lab's lock,
//   flock /var/lib/pilothouse-lab/cluster.flock ctest -R tst_drill_lab

#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/operations/audittrail.h"
#include "app/operations/drill.h"
#include "app/operations/operationlock.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QElapsedTimer>
#include <QTest>

#include "tests/integration/labaccess.h"
#include <algorithm>
#include <libpq-fe.h>
#include <memory>

using namespace Pilothouse;

class TestDrillLab final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;

    QString output(const QString &scenario, const QString &what) const
    {
        return QStringLiteral(PILOTHOUSE_TEST_OUTPUT_DIR "/drill-%1-%2.%3")
            .arg(scenario, QDateTime::currentDateTimeUtc().toString(QStringLiteral("hhmmss")),
                 what);
    }

    struct Console
    {
        std::unique_ptr<AuditTrail> audit;
        std::unique_ptr<OperationLock> lock;
        std::unique_ptr<Drill> drill;
    };

    // What a console does for a drill: its own trail (here a file of the
    // test's, not mirrored, so that the cluster's real chain is left alone),
    // the cluster's real lock, and the runbook.
    Console console(const QString &scenario, const QString &auditDir) const
    {
        const Inventory &inv = m_lab.inventory();
        Console c;
        c.audit = std::make_unique<AuditTrail>(auditDir + QStringLiteral("/audit-") + scenario +
                                               QStringLiteral(".jsonl"));
        c.lock = std::make_unique<OperationLock>(
            EtcdClusterProbe::membersOf(inv), OperationLock::keyFor(inv.settings.stack),
            OperationLockHolder::current(QStringLiteral("drill ") + scenario,
                                         QStringLiteral("tst_drill_lab")));
        DrillOptions o;
        o.scenario = scenario;
        o.reason = QStringLiteral("tst_drill_lab");
        c.drill = std::make_unique<Drill>(inv, o, c.audit.get(), c.lock.get());
        return c;
    }

    QByteArray conninfo(const QString &address, int port, const QString &user,
                        const QString &password) const
    {
        return QStringLiteral("host=%1 port=%2 dbname=%3 user=%4 password=%5 connect_timeout=3")
            .arg(address)
            .arg(port)
            .arg(m_lab.inventory().settings.database, user, password)
            .toUtf8();
    }

    // Every row's first column; nullopt-free: a failure gives an empty list and `ok` false.
    QStringList column(const QString &address, int port, const QByteArray &sql, bool *ok,
                       const QString &user = {}, const QString &password = {}) const
    {
        const auto &s = m_lab.inventory().settings;
        const QString u = user.isEmpty() ? s.monitorUser : user;
        const QString p =
            user.isEmpty() ? m_lab.secret(QStringLiteral("pg_monitor_password")) : password;
        PGconn *c = PQconnectdb(conninfo(address, port, u, p).constData());
        QStringList out;
        *ok = false;
        if (PQstatus(c) == CONNECTION_OK) {
            PGresult *r = PQexec(c, sql.constData());
            if (PQresultStatus(r) == PGRES_TUPLES_OK) {
                *ok = true;
                for (int i = 0; i < PQntuples(r); ++i)
                    out.append(QString::fromUtf8(PQgetvalue(r, i, 0)));
            }
            PQclear(r);
        }
        PQfinish(c);
        return out;
    }

    QString addressOfNode(const QString &node) const
    {
        const auto &s = m_lab.inventory().settings;
        const auto *h = m_lab.inventory().host(s.postgresNodes.value(node));
        return h ? h->address : node;
    }

    // Why the cluster is not healthy with `primary`, asking every server and pgpool itself.
    QStringList unhealthy(const QString &primary) const
    {
        QStringList why;
        const auto &s = m_lab.inventory().settings;
        bool ok = false;
        for (const QString &n : s.postgresNodes.keys()) {
            const QString rec =
                column(addressOfNode(n), s.postgresPort, "SELECT pg_is_in_recovery()", &ok)
                    .value(0);
            if (n == primary) {
                if (rec != u"f")
                    why.append(QStringLiteral("%1 is not primary ('%2')").arg(n, rec));
                continue;
            }
            const QString st =
                column(addressOfNode(n), s.postgresPort,
                       "SELECT status || ' ' || sender_host FROM pg_stat_wal_receiver", &ok)
                    .value(0);
            if (rec != u"t" || st != QStringLiteral("streaming ") + primary)
                why.append(
                    QStringLiteral("%1 is not streaming from %2 ('%3')").arg(n, primary, st));
        }
        int pgpools = 0;
        for (const auto &host : m_lab.inventory().hosts) {
            const QStringList rows = column(host.address, s.pgpoolPort, "SELECT 1",
                                            &ok); // reachability first: only two hosts run a pgpool
            if (!ok)
                continue;
            Q_UNUSED(rows);
            ++pgpools;
            PGconn *c = PQconnectdb(conninfo(host.address, s.pgpoolPort, s.monitorUser,
                                             m_lab.secret(QStringLiteral("pg_monitor_password")))
                                        .constData());
            PGresult *r = PQexec(c, "SHOW POOL_NODES");
            for (int row = 0; row < PQntuples(r); ++row) {
                const QString name =
                    QString::fromUtf8(PQgetvalue(r, row, PQfnumber(r, "hostname")));
                const QString status =
                    QString::fromUtf8(PQgetvalue(r, row, PQfnumber(r, "status")));
                const QString role = QString::fromUtf8(PQgetvalue(r, row, PQfnumber(r, "role")));
                if (status != u"up" && status != u"waiting")
                    why.append(
                        QStringLiteral("pgpool on %1: %2 is %3").arg(host.name, name, status));
                if ((name == primary) != (role == u"primary"))
                    why.append(
                        QStringLiteral("pgpool on %1: %2 has role %3").arg(host.name, name, role));
            }
            PQclear(r);
            PQfinish(c);
        }
        if (pgpools < 2)
            why.append(QStringLiteral("%1 pgpool instance(s) answer, not 2").arg(pgpools));
        return why;
    }

    // The writer's definition of a path's longest gap, recomputed from its
    // samples: between consecutive acknowledgements, from the start to the
    // first one, and from the last one to the stop when writes failed after it.
    static double longestGap(const QList<HeartbeatWrite> &writes, const QString &path,
                             qint64 stoppedMs)
    {
        QList<HeartbeatWrite> mine;
        for (const HeartbeatWrite &w : writes) {
            if (w.path == path)
                mine.append(w);
        }
        std::sort(mine.begin(), mine.end(), [](const HeartbeatWrite &a, const HeartbeatWrite &b) {
            return a.sentMs < b.sentMs;
        });
        QList<qint64> acks;
        bool failedAfterLast = false;
        for (const HeartbeatWrite &w : std::as_const(mine)) {
            if (w.acked()) {
                acks.append(w.ackedMs);
                failedAfterLast = false;
            } else {
                failedAfterLast = true;
            }
        }
        std::sort(acks.begin(), acks.end());
        if (acks.isEmpty())
            return -1;
        double gap = 0;
        for (qsizetype i = 1; i < acks.size(); ++i)
            gap = std::max(gap, double(acks[i] - acks[i - 1]) / 1000.0);
        if (failedAfterLast && stoppedMs > acks.last())
            gap = std::max(gap, double(stoppedMs - acks.last()) / 1000.0);
        return gap;
    }

    static QStringList scenarios()
    {
        const QByteArray env = qgetenv("PILOTHOUSE_DRILL_SCENARIOS");
        if (!env.isEmpty())
            return QString::fromUtf8(env).split(u',', Qt::SkipEmptyParts);
        return {QStringLiteral("kill-primary"),      QStringLiteral("kill-pgpool"),
                QStringLiteral("stop-etcd-member"),  QStringLiteral("lose-etcd-quorum"),
                QStringLiteral("stop-primary-host"), QStringLiteral("partition-primary")};
    }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<DrillReport>();
        // The lab fixture brought it up; an earlier fault test may still be healing.
        // A lab that does not heal is a failure, never a skip.
        QVERIFY2(m_lab.ensurePrimary(QStringLiteral("pg-1")),
                 qPrintable(QStringLiteral("the lab is not healthy: ") + m_lab.error()));
        // Any one primary will do: each drill ends with pg-1 primary again.
        QString primary;
        const auto &settings = m_lab.inventory().settings;
        for (const QString &n : settings.postgresNodes.keys()) {
            bool ok = false;
            if (column(addressOfNode(n), settings.postgresPort, "SELECT pg_is_in_recovery()", &ok)
                    .value(0) == u"f")
                primary = n;
        }
        const QStringList why = unhealthy(primary);
        if (!why.isEmpty())
            QFAIL(qPrintable(QStringLiteral("the lab is not healthy before the drills: ") +
                             why.join(QStringLiteral("; "))));
    }

    void drill_data()
    {
        QTest::addColumn<QString>("scenario");
        QTest::addColumn<bool>("tryLock");
        bool first = true;
        for (const QString &s : scenarios()) {
            QTest::newRow(qPrintable(s)) << s << first;
            first = false;
        }
    }

    void drill()
    {
        QFETCH(QString, scenario);
        QFETCH(bool, tryLock);
        QTemporaryDir auditDir;
        QVERIFY(auditDir.isValid());

        Console first = console(scenario, auditDir.path());
        QByteArray progress;
        QObject::connect(
            first.drill.get(), &Drill::stepFinished, first.drill.get(),
            [&progress](const QString &path, bool ok, double secs, const QString &m) {
                progress += QStringLiteral("%1 %2 (%3 s) %4\n")
                                .arg(ok ? QStringLiteral("ok") : QStringLiteral("FAILED"), path)
                                .arg(secs, 0, 'f', 2)
                                .arg(m)
                                .toUtf8();
            });
        QObject::connect(first.drill.get(), &Drill::observed, first.drill.get(),
                         [&progress](const QString &layer, const QString &text) {
                             progress += QStringLiteral("  [%1] %2\n").arg(layer, text).toUtf8();
                         });
        QSignalSpy finished(first.drill.get(), &Drill::finished);
        first.drill->start();

        if (tryLock) {
            // Once the first drill has passed its preflight it holds the lock:
            // a second operation must be refused, naming the holder.
            const QByteArray preflightDone =
                QByteArray("ok drill ") + scenario.toUtf8() + "/preflight ";
            QTRY_VERIFY_WITH_TIMEOUT(progress.contains(preflightDone) || finished.size() > 0,
                                     60000);
            QVERIFY2(finished.isEmpty(), progress.constData());
            Console second = console(QStringLiteral("kill-pgpool"), auditDir.path());
            QSignalSpy secondFinished(second.drill.get(), &Drill::finished);
            second.drill->start();
            QVERIFY(secondFinished.wait(60000));
            const DrillReport refused = secondFinished.at(0).at(0).value<DrillReport>();
            qInfo("second drill while the first runs: %s, refused %d: %s",
                  qPrintable(refused.outcome), second.drill->refused(), qPrintable(refused.error));
            QVERIFY(second.drill->refused());
            QVERIFY2(refused.error.contains(QStringLiteral("drill ") + scenario),
                     qPrintable(refused.error));
            QCOMPARE(refused.fault.injectedAt, -1.0);
        }

        QVERIFY2(finished.wait(12 * 60 * 1000) || finished.size() > 0,
                 "the drill did not finish in 12 minutes");
        const DrillReport result = finished.at(0).at(0).value<DrillReport>();
        const QByteArray out = QJsonDocument(result.toJson()).toJson();
        QFile keep(output(scenario, QStringLiteral("json")));
        if (keep.open(QIODevice::WriteOnly))
            keep.write(out);
        QFile keepLog(output(scenario, QStringLiteral("log")));
        if (keepLog.open(QIODevice::WriteOnly))
            keepLog.write(progress);
        const QJsonObject report = QJsonDocument::fromJson(out).object();
        QVERIFY2(!report.isEmpty(), progress.right(4000).constData());
        const int exitCode = result.succeeded() ? 0 : (first.drill->refused() ? 2 : 1);

        QJsonArray phases = report.value(QStringLiteral("phases")).toArray();
        QStringList phaseText;
        for (const QJsonValue &p : phases)
            phaseText.append(
                QStringLiteral("%1 %2 s")
                    .arg(p.toObject().value(QStringLiteral("name")).toString())
                    .arg(p.toObject().value(QStringLiteral("seconds")).toDouble(), 0, 'f', 2));
        qInfo("%s: exit %d, outcome %s, rto %.3f s (pgpool %.3f, app %.3f), rpo %d, two primaries "
              "%.3f s, healthy %s after %.1f s, predicted %.1f s (%s); phases: %s",
              qPrintable(scenario), exitCode,
              qPrintable(report.value(QStringLiteral("outcome")).toString()),
              report.value(QStringLiteral("rto_seconds")).toDouble(),
              report.value(QStringLiteral("rto_pgpool_seconds")).toDouble(),
              report.value(QStringLiteral("rto_app_seconds")).toDouble(),
              report.value(QStringLiteral("rpo_writes")).toInt(),
              report.value(QStringLiteral("two_primaries_seconds")).toDouble(),
              report.value(QStringLiteral("healthy_after")).toBool() ? "yes" : "NO",
              report.value(QStringLiteral("healthy_after_seconds")).toDouble(),
              report.value(QStringLiteral("prediction"))
                  .toObject()
                  .value(QStringLiteral("seconds"))
                  .toDouble(),
              qPrintable(report.value(QStringLiteral("prediction"))
                             .toObject()
                             .value(QStringLiteral("slowest_layer"))
                             .toString()),
              qPrintable(phaseText.join(QStringLiteral("; "))));

        // Ran to the end, and the cluster is back: 3 healthy nodes, pg-1 primary.
        QVERIFY2(exitCode == 0,
                 qPrintable(report.value(QStringLiteral("error")).toString() +
                            QStringLiteral("\n") + QString::fromUtf8(progress.right(6000))));
        QCOMPARE(report.value(QStringLiteral("outcome")).toString(), QStringLiteral("succeeded"));
        QVERIFY(report.value(QStringLiteral("healthy_after")).toBool());
        QVERIFY(report.value(QStringLiteral("fault"))
                    .toObject()
                    .value(QStringLiteral("injected_at"))
                    .toDouble() > 0);
        const QStringList why = unhealthy(QStringLiteral("pg-1"));
        QVERIFY2(why.isEmpty(), qPrintable(why.join(QStringLiteral("; "))));
        const LabAccess::Run status =
            LabAccess::local(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/lab/lab"),
                             {QStringLiteral("status")}, 60000);
        QVERIFY2(status.ok(), status.out.constData());

        // The report against the writer's own samples.
        const HeartbeatWriter *writer = first.drill->writer();
        QVERIFY(writer);
        const QList<HeartbeatWrite> samples = writer->writes();
        const qint64 stoppedMs = first.drill->writersStoppedMs();
        const QJsonArray writers = report.value(QStringLiteral("writers")).toArray();
        QVERIFY(writers.size() >= 2);
        double worstSql = -1;
        double worstApp = -1;
        QSet<QString> appPaths;
        for (const HeartbeatPath &p : writer->options().paths) {
            if (p.kind == HeartbeatPath::Kind::App)
                appPaths.insert(p.name);
        }
        int lostSql = 0;
        for (const QJsonValue &v : writers) {
            const QJsonObject w = v.toObject();
            const QString path = w.value(QStringLiteral("path")).toString();
            const double recomputed = longestGap(samples, path, stoppedMs);
            const double reported = w.value(QStringLiteral("write_gap_seconds")).toDouble();
            qInfo("  %s: reported gap %.3f s, recomputed from the samples %.3f s; %d sent, %d "
                  "acknowledged, %d lost",
                  qPrintable(path), reported, recomputed,
                  w.value(QStringLiteral("attempts")).toInt(),
                  w.value(QStringLiteral("acknowledged")).toInt(),
                  w.value(QStringLiteral("lost")).toInt());
            QVERIFY2(
                qAbs(recomputed - reported) <= 0.002,
                qPrintable(QStringLiteral("%1: %2 vs %3").arg(path).arg(reported).arg(recomputed)));
            if (!appPaths.contains(path))
                lostSql += w.value(QStringLiteral("lost")).toInt();
            if (!w.value(QStringLiteral("counted_in_rto")).toBool()) {
                qInfo("  %s is not counted in the RTO: %s", qPrintable(path),
                      qPrintable(w.value(QStringLiteral("note")).toString()));
                continue;
            }
            if (appPaths.contains(path))
                worstApp = std::max(worstApp, recomputed);
            else {
                worstSql = std::max(worstSql, recomputed);
            }
        }
        QVERIFY(qAbs(report.value(QStringLiteral("rto_pgpool_seconds")).toDouble() - worstSql) <=
                0.002);
        if (!appPaths.isEmpty())
            QVERIFY(qAbs(report.value(QStringLiteral("rto_app_seconds")).toDouble() - worstApp) <=
                    0.002);
        QVERIFY(qAbs(report.value(QStringLiteral("rto_seconds")).toDouble() -
                     std::max(worstSql, worstApp)) <= 0.002);

        // RPO: the SQL paths' acknowledged heartbeats that the table on the
        // primary lacks, counted here from the table itself.
        const auto &s = m_lab.inventory().settings;
        bool ok = false;
        const QString runId = writer->runId();
        QVERIFY(!runId.contains(u'\''));
        const QStringList seqs =
            column(addressOfNode(QStringLiteral("pg-1")), s.postgresPort,
                   QStringLiteral("SELECT seq FROM %1 WHERE run_id = '%2'")
                       .arg(writer->options().table, runId)
                       .toUtf8(),
                   &ok, QStringLiteral("app"), m_lab.secret(QStringLiteral("pg_app_password")));
        QVERIFY2(ok, "could not read the heartbeat table on pg-1");
        const QSet<QString> present(seqs.cbegin(), seqs.cend());
        int missing = 0;
        for (const HeartbeatWrite &w : samples) {
            if (appPaths.contains(w.path) || !w.acked())
                continue;
            if (!present.contains(QString::number(w.seq)))
                ++missing;
        }
        qInfo("  acknowledged SQL heartbeats missing on pg-1: %d (report: %d of rpo_writes %d)",
              missing, lostSql, report.value(QStringLiteral("rpo_writes")).toInt());
        QCOMPARE(lostSql, missing);
        QVERIFY(report.value(QStringLiteral("rpo_writes")).toInt() >= missing);

        if (scenario == u"kill-primary" || scenario == u"stop-primary-host" ||
            scenario == u"partition-primary") {
            QVERIFY(report.value(QStringLiteral("new_primary")).toString() != u"pg-1" ||
                    report.value(QStringLiteral("old_primary")).toString() != u"pg-1");
            QStringList names;
            for (const QJsonValue &p : std::as_const(phases))
                names.append(p.toObject().value(QStringLiteral("name")).toString());
            QVERIFY2(names.contains(QStringLiteral("detection")), qPrintable(names.join(u',')));
            QVERIFY2(names.contains(QStringLiteral("promotion")), qPrintable(names.join(u',')));
        }
        // The cut-off old primary must not acknowledge a write once a standby
        // is promoted; and no time with two writable primaries, in any scenario.
        if (scenario == u"partition-primary")
            QCOMPARE(report.value(QStringLiteral("old_primary_writes_while_isolated")).toInt(), 0);
        QCOMPARE(report.value(QStringLiteral("two_primaries_seconds")).toDouble(), 0.0);
    }
};

QTEST_GUILESS_MAIN(TestDrillLab)
#include "tst_drill_lab.moc"
