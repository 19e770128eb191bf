// `pilothouse switchover` on the lab: to pg-2 and back to pg-1 while the
// heartbeat writer runs through every pgpool and the app. No acknowledged
// heartbeat may be lost, the timeline goes up by one each time, and the
// cluster ends healthy as it started: pg-1 primary, two standbys streaming
// from it, every pgpool agreeing. pg-1 is made primary again in cleanup
// whatever failed. Checked against each server directly (libpq), not only
// against the tool's own verify step. While the first switchover holds the
// operation lock, a second one is started and must be refused naming the
// holder; afterwards the audit trail must hold the operation and its remote
// commands, and none of the lab's secrets. Then a fault: the console killed
// in the middle of a switchover (after repmgrd was paused everywhere) and
// started again must report that at once, be refused while the dead run's
// lease lives, and then finish the switchover with repmgrd running again.
//
// Changes the cluster: run it under the lab's lock,
//   flock /var/lib/pilothouse-lab/cluster.flock ctest -R tst_switchover_lab

#include "app/operations/audittrail.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

#include "tests/integration/labaccess.h"
#include <libpq-fe.h>

class TestSwitchoverLab final : public QObject
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

    QStringList arguments(const QString &to, const QString &reason) const
    {
        return {QStringLiteral("switchover"), QStringLiteral("--to"),     to,
                QStringLiteral("--inventory"), m_lab.inventory().path, QStringLiteral("--reason"),
                reason,                        QStringLiteral("--json")};
    }

    Run finished(const QString &to, const LabAccess::Run &r)
    {
        Run out;
        out.exitCode = r.exitCode;
        out.report = QJsonDocument::fromJson(r.out).object();
        out.progress = r.err;
        // Keep each report (steps with their timings, every path's gap) for a person to read.
        QFile file(QStringLiteral(PILOTHOUSE_TEST_OUTPUT_DIR "/switchover-to-%1-%2.json")
                       .arg(to)
                       .arg(QDateTime::currentDateTimeUtc().toString(QStringLiteral("hhmmss"))));
        if (file.open(QIODevice::WriteOnly))
            file.write(r.out);
        return out;
    }

    // A switchover started in the background, once it has ended; `progress`
    // is what was read of its stderr while it ran.
    Run finished(const QString &to, QProcess *p, const QByteArray &progress)
    {
        LabAccess::Run r;
        r.exitCode = p->exitStatus() == QProcess::NormalExit ? p->exitCode() : -1;
        r.out = p->readAllStandardOutput();
        r.err = progress + p->readAllStandardError();
        return finished(to, r);
    }

    Run switchover(const QString &to, const QString &reason = QStringLiteral("tst_switchover_lab"))
    {
        return finished(to, LabAccess::local(QStringLiteral(PILOTHOUSE_BINARY),
                                             arguments(to, reason), 300000));
    }

    // The lab's secrets as they could leak: each file's content, and each
    // long line of the multi-line ones (keys, certificates).
    QStringList labSecrets() const
    {
        QStringList out;
        const QDir dir(m_lab.inventory().settings.secretsDir);
        for (const QString &name : dir.entryList(QDir::Files)) {
            QFile f(dir.filePath(name));
            if (!f.open(QIODevice::ReadOnly))
                continue;
            const QString text = QString::fromUtf8(f.readAll()).trimmed();
            if (!text.contains(u'\n')) {
                if (text.size() >= 4)
                    out.append(text);
                continue;
            }
            for (const QString &line : text.split(u'\n')) {
                if (line.trimmed().size() >= 16 && !line.startsWith(u"-----"))
                    out.append(line.trimmed());
            }
        }
        return out;
    }

    QByteArray conninfo(const QString &address, int port, const QString &db)
    {
        const auto &s = m_lab.inventory().settings;
        return QStringLiteral("host=%1 port=%2 dbname=%3 user=%4 password=%5 connect_timeout=3")
            .arg(address)
            .arg(port)
            .arg(db, s.monitorUser, m_lab.secret(QStringLiteral("pg_monitor_password")))
            .toUtf8();
    }

    // One row, first column, or empty on any failure.
    QString scalar(const QString &address, int port, const char *sql)
    {
        PGconn *c =
            PQconnectdb(conninfo(address, port, m_lab.inventory().settings.database).constData());
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

    QString addressOf(const QString &node)
    {
        const auto &s = m_lab.inventory().settings;
        const auto *h = m_lab.inventory().host(s.postgresNodes.value(node));
        return h ? h->address : node;
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

    // Why the cluster is not healthy on `primary`, asking each server itself.
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
            const QString st =
                scalar(addressOf(n), s.postgresPort,
                       "SELECT status || ' ' || sender_host FROM pg_stat_wal_receiver");
            if (rec != u"t" || st != QStringLiteral("streaming ") + primary)
                why.append(n + QStringLiteral(" is not streaming from ") + primary +
                           QStringLiteral(": ") + st);
        }
        int pgpools = 0;
        for (const auto &host : m_lab.inventory().hosts) {
            PGconn *c = PQconnectdb(conninfo(host.address, s.pgpoolPort, s.database).constData());
            if (PQstatus(c) != CONNECTION_OK) {
                PQfinish(c);
                continue; // no pgpool task on this host
            }
            ++pgpools;
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

    // `pilothouse status --json`: each node as name=role/repmgrd, and the
    // repmgrd-paused finding ("severity message") in *finding, empty if none.
    QStringList repmgrdStates(QString *finding)
    {
        const LabAccess::Run status =
            LabAccess::local(QStringLiteral(PILOTHOUSE_BINARY),
                             {QStringLiteral("status"), QStringLiteral("--json"),
                              QStringLiteral("--inventory"), m_lab.inventory().path},
                             30000);
        const QJsonObject snapshot = QJsonDocument::fromJson(status.out).object();
        QStringList states;
        for (const QJsonValue &n :
             snapshot[QStringLiteral("postgres")][QStringLiteral("nodes")].toArray())
            states.append(n[QStringLiteral("name")].toString() + u'=' +
                          n[QStringLiteral("role")].toString() + u'/' +
                          n[QStringLiteral("repmgrd")].toString());
        finding->clear();
        for (const QJsonValue &f : snapshot[QStringLiteral("findings")].toArray()) {
            if (f[QStringLiteral("code")].toString() == u"repmgrd-paused")
                *finding = f[QStringLiteral("severity")].toString() + u' ' +
                           f[QStringLiteral("message")].toString();
        }
        return states;
    }

    // A switchover to `to` in the background that holds before `step` for
    // `holdMs` (-1: until killed); returns once it says it holds.
    bool startHeld(QProcess *p, const QString &to, const QString &reason, const QString &step,
                   int holdMs, QByteArray *progress)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("PILOTHOUSE_FAILPOINT_HOLD_BEFORE"), step);
        if (holdMs >= 0)
            env.insert(QStringLiteral("PILOTHOUSE_FAILPOINT_HOLD_MS"), QString::number(holdMs));
        p->setProcessEnvironment(env);
        p->start(QStringLiteral(PILOTHOUSE_BINARY), arguments(to, reason));
        if (!p->waitForStarted(5000))
            return false;
        return LabAccess::waitUntil(
                   [&] {
                       *progress += p->readAllStandardError();
                       return progress->contains("failpoint: holding before") ||
                              p->state() == QProcess::NotRunning;
                   },
                   90000, 100) &&
               progress->contains("failpoint: holding before");
    }

    void checkRun(const Run &run, const QString &from, const QString &to)
    {
        const QJsonObject &j = run.report;
        const QJsonObject gaps = j.value(QStringLiteral("write_gap_seconds")).toObject();
        qInfo("switchover %s -> %s: exit %d, %.3f s, timeline %d -> %d, write gap pgpool %.3f s, "
              "app %.3f s, lost %d of %d acknowledged",
              qPrintable(from), qPrintable(to), run.exitCode,
              j.value(QStringLiteral("duration_seconds")).toDouble(),
              j.value(QStringLiteral("timeline_before")).toInt(),
              j.value(QStringLiteral("timeline_after")).toInt(),
              gaps.value(QStringLiteral("pgpool")).toDouble(-1),
              gaps.value(QStringLiteral("app")).toDouble(-1),
              j.value(QStringLiteral("lost_writes")).toInt(-1),
              j.value(QStringLiteral("acknowledged_writes")).toInt());
        for (const QJsonValue &p : j.value(QStringLiteral("paths")).toArray())
            qInfo("  %s: gap %.3f s, %d sent, %d acknowledged, %d failed",
                  qPrintable(p[QStringLiteral("path")].toString()),
                  p[QStringLiteral("write_gap_seconds")].toDouble(),
                  p[QStringLiteral("sent")].toInt(), p[QStringLiteral("acked")].toInt(),
                  p[QStringLiteral("failed")].toInt());
        QVERIFY2(run.exitCode == 0, run.progress.right(3000).constData());
        QVERIFY(j.value(QStringLiteral("ok")).toBool());
        QCOMPARE(j.value(QStringLiteral("old_primary")).toString(), from);
        QCOMPARE(j.value(QStringLiteral("new_primary")).toString(), to);
        QCOMPARE(j.value(QStringLiteral("timeline_after")).toInt(),
                 j.value(QStringLiteral("timeline_before")).toInt() + 1);
        QVERIFY(j.value(QStringLiteral("acknowledged_writes")).toInt() > 0);
        QCOMPARE(j.value(QStringLiteral("lost_writes")).toInt(-1), 0);
        QVERIFY(!gaps.value(QStringLiteral("pgpool")).isNull());
    }

    // The first switchover's entries in the trail: the operation (started and
    // its outcome) and its remote commands; no secret anywhere in the file.
    void checkAudit(const QString &reason)
    {
        const QString path = Pilothouse::AuditTrail::defaultFilePath(m_lab.inventory());
        QFile f(path);
        QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(path));
        const QByteArray all = f.readAll();
        QHash<QString, int> kinds;
        bool finishedOk = false;
        for (const QByteArray &line : all.split('\n')) {
            const QJsonObject e = QJsonDocument::fromJson(line).object();
            if (e.value(QStringLiteral("reason")).toString() != reason)
                continue;
            const QString kind = e.value(QStringLiteral("kind")).toString();
            ++kinds[kind];
            if (kind == u"operation" &&
                e.value(QStringLiteral("result")).toString().startsWith(u"succeeded"))
                finishedOk = e.value(QStringLiteral("ok")).toBool();
        }
        qInfo("audit %s: %d operation, %d docker, %d sql entries for this run", qPrintable(path),
              kinds.value(QStringLiteral("operation")), kinds.value(QStringLiteral("docker")),
              kinds.value(QStringLiteral("sql")));
        QCOMPARE(kinds.value(QStringLiteral("operation")), 2); // started, succeeded
        QVERIFY(finishedOk);
        QVERIFY(kinds.value(QStringLiteral("docker")) >= 5); // pause, stop, rejoin, pgpools...
        QVERIFY(kinds.value(QStringLiteral("sql")) >= 4);    // checkpoint, promote, metadata...
        const QString text = QString::fromUtf8(all);
        for (const QString &secret : labSecrets())
            QVERIFY2(!text.contains(secret),
                     qPrintable(QStringLiteral("a secret of %1 is in the audit trail")
                                    .arg(m_lab.inventory().settings.secretsDir)));
        qInfo("masked values in the trail: %lld", qlonglong(text.count(QStringLiteral("***"))));
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

    // Every test starts from pg-1 primary, healthy (a failed one may have left another).
    void init()
    {
        QVERIFY2(m_lab.ensurePrimary(QStringLiteral("pg-1")), qPrintable(m_lab.error()));
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-1")).isEmpty(), 60000);
    }

    void refusesWhatCannotBeDone()
    {
        // Already primary: refused by the preflight, nothing changes.
        const Run run = switchover(QStringLiteral("pg-1"));
        QCOMPARE(run.exitCode, 2);
        QVERIFY(run.report.value(QStringLiteral("refused")).toBool());
        QVERIFY2(
            run.report.value(QStringLiteral("error")).toString().contains(u"already the primary"),
            qPrintable(run.report.value(QStringLiteral("error")).toString()));
        QCOMPARE(primaryNow(), QStringLiteral("pg-1"));
    }

    void thereAndBack()
    {
        // There, in the background, so that a second switchover can try
        // while the first holds the lock.
        const QString reason = QStringLiteral("tst_switchover_lab %1")
                                   .arg(QDateTime::currentMSecsSinceEpoch());
        QProcess first;
        first.start(QStringLiteral(PILOTHOUSE_BINARY), arguments(QStringLiteral("pg-2"), reason));
        QVERIFY(first.waitForStarted(5000));
        QByteArray progress;
        QTRY_VERIFY_WITH_TIMEOUT((progress += first.readAllStandardError(),
                                  progress.contains("ok take the operation lock") ||
                                      first.state() == QProcess::NotRunning),
                                 60000);
        QVERIFY2(progress.contains("ok take the operation lock"), progress.constData());

        const Run second = switchover(QStringLiteral("pg-3"));
        const QString why = second.report.value(QStringLiteral("error")).toString();
        qInfo("second switchover while the first runs: exit %d: %s", second.exitCode,
              qPrintable(why));
        QCOMPARE(second.exitCode, 2);
        QVERIFY(second.report.value(QStringLiteral("refused")).toBool());
        QVERIFY2(why.contains(QStringLiteral("switchover to pg-2 by")) && why.contains(u"since") &&
                     why.contains(reason),
                 qPrintable(why));
        QVERIFY(!second.report.value(QStringLiteral("runbook")).toObject().isEmpty());

        QVERIFY(first.waitForFinished(300000));
        const Run there = finished(QStringLiteral("pg-2"), &first, progress);
        checkRun(there, QStringLiteral("pg-1"), QStringLiteral("pg-2"));
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-2")).isEmpty(), 30000);
        checkAudit(reason);

        const Run back = switchover(QStringLiteral("pg-1"));
        checkRun(back, QStringLiteral("pg-2"), QStringLiteral("pg-1"));
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-1")).isEmpty(), 30000);
    }

    // Fault: every SSH connection of the console is cut in the middle of a
    // switchover (repmgrd paused, the old primary not yet stopped). The
    // console connects again where it needs to and the switchover ends as
    // any other: 0 lost writes, healthy on the new primary.
    void sshDroppedMidway()
    {
        QProcess run;
        QByteArray progress;
        QVERIFY2(startHeld(&run, QStringLiteral("pg-2"),
                           QStringLiteral("tst_switchover_lab ssh drop"),
                           QStringLiteral("checkpoint the primary"), 6000, &progress),
                 progress.constData());
        QStringList dropped;
        int connections = 0;
        for (const auto &h : m_lab.inventory().hosts) {
            const LabAccess::Run r =
                LabAccess::local(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/lab/lab"),
                                 {QStringLiteral("drop-ssh"), h.name}, 30000);
            QVERIFY2(r.ok(), QByteArray(r.out + r.err).constData());
            dropped.append(QString::fromUtf8(r.out).trimmed());
            connections += QRegularExpression(QStringLiteral(": (\\d+) SSH connection"))
                               .match(dropped.last())
                               .captured(1)
                               .toInt();
        }
        qInfo("while the switchover held: %s", qPrintable(dropped.join(QStringLiteral("; "))));
        QVERIFY2(connections >= 1, qPrintable(dropped.join(QStringLiteral("; "))));
        QVERIFY(run.waitForFinished(300000));
        const Run there = finished(QStringLiteral("pg-2"), &run, progress);
        checkRun(there, QStringLiteral("pg-1"), QStringLiteral("pg-2"));
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-2")).isEmpty(), 30000);
        const Run back = switchover(QStringLiteral("pg-1"));
        checkRun(back, QStringLiteral("pg-2"), QStringLiteral("pg-1"));
    }

    // Ctrl+C or SIGTERM in the middle of a switchover: the runbook is
    // cancelled, undoes what it did (repmgrd resumed) and the process ends by
    // itself with its report; pg-1 stays primary, nothing was lost.
    void interruptedMidwayUndoes()
    {
        QProcess run;
        QByteArray progress;
        QVERIFY2(startHeld(&run, QStringLiteral("pg-2"),
                           QStringLiteral("tst_switchover_lab sigterm"),
                           QStringLiteral("checkpoint the primary"), -1, &progress),
                 progress.constData());
        run.terminate(); // SIGTERM
        QVERIFY(run.waitForFinished(60000));
        const Run r = finished(QStringLiteral("pg-2"), &run, progress);
        qInfo("SIGTERM while holding: exit %d, ok %d, error: %s", r.exitCode,
              int(r.report.value(QStringLiteral("ok")).toBool()),
              qPrintable(r.report.value(QStringLiteral("error")).toString()));
        QVERIFY2(r.progress.contains("SIGTERM: cancelling"), r.progress.right(3000).constData());
        QVERIFY(run.exitStatus() == QProcess::NormalExit);
        QVERIFY(r.exitCode != 0);
        QVERIFY(!r.report.value(QStringLiteral("ok")).toBool());
        QCOMPARE(r.report.value(QStringLiteral("lost_writes")).toInt(-1), 0);
        QString finding;
        QCOMPARE(repmgrdStates(&finding), (QStringList{QStringLiteral("pg-1=primary/running"),
                                                       QStringLiteral("pg-2=standby/running"),
                                                       QStringLiteral("pg-3=standby/running")}));
        QVERIFY2(finding.isEmpty(), qPrintable(finding));
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-1")).isEmpty(), 30000);
    }

    // Fault: the console is killed in the middle of a switchover (repmgrd
    // paused on every node, the lock held) and started again. It must say so
    // at once, refuse a second operation while the dead one's lease lives,
    // then run the switchover to the end, which leaves repmgrd running.
    void killedMidwayAndStartedAgain()
    {
        const QString reason =
            QStringLiteral("tst_switchover_lab killed %1").arg(QDateTime::currentMSecsSinceEpoch());
        QProcess killed;
        QByteArray progress;
        QVERIFY2(startHeld(&killed, QStringLiteral("pg-2"), reason,
                           QStringLiteral("checkpoint the primary"), -1, &progress),
                 progress.constData());
        QVERIFY2(progress.contains("ok pause repmgrd on every node") &&
                     progress.contains("failpoint: holding before \"checkpoint the primary\""),
                 progress.constData());
        killed.kill(); // SIGKILL: no undo, no closing record, the lease not revoked
        QVERIFY(killed.waitForFinished(10000));

        // Started again: the first look says what the dead run left.
        QElapsedTimer look;
        look.start();
        QString finding;
        const QStringList states = repmgrdStates(&finding);
        const qint64 lookMs = look.elapsed();
        qInfo("after the kill, `pilothouse status` in %lld ms: %s; %s", qlonglong(lookMs),
              qPrintable(states.join(QStringLiteral(", "))), qPrintable(finding));
        QCOMPARE(states, (QStringList{QStringLiteral("pg-1=primary/paused"),
                                      QStringLiteral("pg-2=standby/paused"),
                                      QStringLiteral("pg-3=standby/paused")}));
        QVERIFY2(finding.startsWith(u"critical"), qPrintable(finding));
        QVERIFY2(lookMs <= 2000, qPrintable(QStringLiteral("%1 ms").arg(lookMs)));

        // The dead run's lease still holds the lock: refused, naming it.
        const Run second = switchover(QStringLiteral("pg-2"));
        const QString why = second.report.value(QStringLiteral("error")).toString();
        qInfo("a switchover right after the kill: exit %d: %s", second.exitCode, qPrintable(why));
        QCOMPARE(second.exitCode, 2);
        QVERIFY2(why.contains(QStringLiteral("switchover to pg-2 by")) && why.contains(reason),
                 qPrintable(why));

        // Once the lease has run out (15 s without keep-alive), the switchover
        // runs to the end, and repmgrd runs again everywhere.
        Run again;
        QElapsedTimer lease;
        lease.start();
        do {
            QTest::qWait(3000);
            again = switchover(QStringLiteral("pg-2"));
        } while (again.exitCode == 2 && lease.elapsed() < 60000 &&
                 again.report.value(QStringLiteral("error")).toString().contains(reason));
        qInfo("the lock was free again after %lld ms", qlonglong(lease.elapsed()));
        checkRun(again, QStringLiteral("pg-1"), QStringLiteral("pg-2"));
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-2")).isEmpty(), 30000);
        QTRY_COMPARE_WITH_TIMEOUT(repmgrdStates(&finding),
                                  (QStringList{QStringLiteral("pg-1=standby/running"),
                                               QStringLiteral("pg-2=primary/running"),
                                               QStringLiteral("pg-3=standby/running")}),
                                  20000);
        QVERIFY2(finding.isEmpty(), qPrintable(finding));
        const Run back = switchover(QStringLiteral("pg-1"));
        checkRun(back, QStringLiteral("pg-2"), QStringLiteral("pg-1"));

        // The trail holds the killed run's start without an outcome, and still verifies.
        // The file's chain only: in a suite run, earlier tests with a data
        // directory of their own started another chain in the same etcd
        // (seen in CI: etcd held seq 1..50 of theirs, then 6077.. of this
        // file), which `audit verify` rightly calls broken.
        const LabAccess::Run verify = LabAccess::local(
            QStringLiteral(PILOTHOUSE_BINARY),
            {QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("--offline"),
             QStringLiteral("--inventory"), m_lab.inventory().path},
            60000);
        QVERIFY2(verify.ok(), QByteArray(verify.out + verify.err).constData());
        qInfo("audit verify: %s", verify.out.trimmed().constData());
    }

    // Killed after the old primary stopped and before the promotion: no
    // primary, repmgrd paused, the old primary held down. Nobody does
    // anything: once the dead run's lock has been gone for a minute, the
    // supervisors release the hold and unpause repmgrd, and the cluster is
    // healthy again on one primary (pg-1 restarting, or pg-2 promoted by
    // repmgrd if it saw pg-1 down first), with repmgrd running everywhere.
    void killedBeforeThePromotionComesBackByItself()
    {
        const QString reason = QStringLiteral("tst_switchover_lab killed before promotion %1")
                                   .arg(QDateTime::currentMSecsSinceEpoch());
        const QString step = QStringLiteral("check pg-2 has all WAL, promote it");
        QProcess killed;
        QByteArray progress;
        QVERIFY2(startHeld(&killed, QStringLiteral("pg-2"), reason, step, -1, &progress),
                 progress.constData());
        QVERIFY2(progress.contains("ok stop the old primary"), progress.constData());
        killed.kill();
        QVERIFY(killed.waitForFinished(10000));
        QElapsedTimer since;
        since.start();

        QString finding;
        const QStringList left = repmgrdStates(&finding);
        qInfo("after the kill: %s; %s", qPrintable(left.join(QStringLiteral(", "))),
              qPrintable(finding));
        QVERIFY2(primaryNow().isEmpty(), qPrintable(primaryNow()));
        QVERIFY2(finding.startsWith(u"critical"), qPrintable(finding));

        QString primary;
        QStringList why{QStringLiteral("not looked at yet")};
        QVERIFY2(LabAccess::waitUntil(
                     [&] {
                         primary = primaryNow();
                         why = primary.isEmpty() ? QStringList{QStringLiteral("no primary")}
                                                 : unhealthy(primary);
                         return why.isEmpty();
                     },
                     240000, 3000),
                 qPrintable(why.join(QStringLiteral("; "))));
        qInfo("healthy again on %s %lld ms after the kill, nobody doing anything",
              qPrintable(primary), qlonglong(since.elapsed()));
        QStringList states;
        QTRY_VERIFY2_WITH_TIMEOUT(
            [&] {
                states = repmgrdStates(&finding);
                return states.size() == 3 && states.filter(QStringLiteral("/running")).size() == 3;
            }(),
            qPrintable(states.join(QStringLiteral(", "))), 60000);
        QVERIFY2(finding.isEmpty(), qPrintable(finding));
        qInfo("repmgrd running everywhere %lld ms after the kill", qlonglong(since.elapsed()));
        if (primary != u"pg-1") {
            const Run back = switchover(QStringLiteral("pg-1"));
            checkRun(back, primary, QStringLiteral("pg-1"));
        }
    }

    void cleanupTestCase()
    {
        // Whatever failed above: pg-1 primary again, or say loudly why not.
        for (int attempt = 0; attempt < 4; ++attempt) {
            const QString primary = primaryNow();
            if (primary == u"pg-1")
                break;
            if (!primary.isEmpty()) {
                const Run r = switchover(QStringLiteral("pg-1"));
                if (r.exitCode == 0)
                    break;
                qWarning("switching back to pg-1 failed (exit %d): %s", r.exitCode,
                         r.progress.right(2000).constData());
            }
            QTest::qWait(20000); // let the supervisors and repmgrd settle, then try again
        }
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-1")).isEmpty(), 60000);
    }
};

QTEST_GUILESS_MAIN(TestSwitchoverLab)
#include "tst_switchover_lab.moc"
