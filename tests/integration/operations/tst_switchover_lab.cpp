// `pilothouse switchover` on the lab: to pg-2 and back to pg-1 while the
// heartbeat writer runs through every pgpool and the app. No acknowledged
// heartbeat may be lost, the timeline goes up by one each time, and the
// cluster ends healthy as it started: pg-1 primary, two standbys streaming
// from it, every pgpool agreeing. pg-1 is made primary again in cleanup
// whatever failed. Checked against each server directly (libpq), not only
// against the tool's own verify step.

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
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

    Run switchover(const QString &to)
    {
        const auto r = LabAccess::local(
            QStringLiteral(PILOTHOUSE_BINARY),
            {QStringLiteral("switchover"), QStringLiteral("--to"), to,
             QStringLiteral("--inventory"), m_lab.inventory().path, QStringLiteral("--reason"),
             QStringLiteral("tst_switchover_lab"), QStringLiteral("--json")},
            300000);
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

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        const QStringList why = unhealthy(QStringLiteral("pg-1"));
        if (!why.isEmpty())
            QSKIP(qPrintable(QStringLiteral("the lab is not healthy on pg-1 before the test: ") +
                             why.join(QStringLiteral("; "))));
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
        const Run there = switchover(QStringLiteral("pg-2"));
        checkRun(there, QStringLiteral("pg-1"), QStringLiteral("pg-2"));
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-2")).isEmpty(), 30000);

        const Run back = switchover(QStringLiteral("pg-1"));
        checkRun(back, QStringLiteral("pg-2"), QStringLiteral("pg-1"));
        QTRY_VERIFY_WITH_TIMEOUT(unhealthy(QStringLiteral("pg-1")).isEmpty(), 30000);
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
