// The pg connector against the real lab: every PostgreSQL node read by its
// probe as the monitoring role, each pgpool task asked on its own, and the
// loss of a monitoring session noticed at once and repaired. Read-only, except
// that it terminates its own monitoring sessions (same role: allowed).

#include "app/connectors/pg/pgconnection.h"
#include "app/connectors/pg/pgnodeprobe.h"
#include "app/connectors/pg/pgpoolprobe.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QSet>
#include <QSignalSpy>
#include <QTest>

#include "tests/integration/labaccess.h"
#include <memory>

using namespace Pilothouse;

namespace {

template<typename T> QByteArray why(const Result<T> &r)
{
    return r ? QByteArray() : r.error().message.toUtf8();
}

// A name for our own sessions that no one else uses, to find them in pg_stat_activity.
QString uniqueApplicationName(const QString &what)
{
    return QStringLiteral("pilothouse-test-%1-%2")
        .arg(what)
        .arg(QCoreApplication::applicationPid());
}

} // namespace

class TestPgLab final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;

    QString addressOf(const QString &host) const
    {
        const auto *h = m_lab.inventory().host(host);
        return h ? h->address : QString();
    }

    PgNodeProbeConfig nodeConfig(const QString &node) const
    {
        const auto &s = m_lab.inventory().settings;
        PgNodeProbeConfig c;
        c.name = node;
        c.host = s.postgresNodes.value(node);
        c.address = addressOf(c.host);
        c.port = s.postgresPort;
        c.database = s.database;
        c.repmgrDatabase = s.repmgrDatabase;
        c.user = s.monitorUser;
        c.password = m_lab.secret(QStringLiteral("pg_monitor_password"));
        c.applicationName = uniqueApplicationName(node);
        return c;
    }

    PgConnectOptions sideOptions(const QString &host) const
    {
        const auto &s = m_lab.inventory().settings;
        PgConnectOptions o;
        o.host = addressOf(host);
        o.port = s.postgresPort;
        o.database = s.database;
        o.user = s.monitorUser;
        o.password = m_lab.secret(QStringLiteral("pg_monitor_password"));
        o.applicationName = uniqueApplicationName(QStringLiteral("side"));
        o.label = host;
        return o;
    }

    // One refresh of every node; false when some probe did not answer in time.
    static bool refreshAll(const QList<PgNodeProbe *> &probes, QList<PostgresNodeState> &out)
    {
        out.clear();
        for (PgNodeProbe *p : probes) {
            QSignalSpy refreshed(p, &PgNodeProbe::refreshed);
            QElapsedTimer t;
            t.start();
            p->refresh();
            if (!refreshed.wait(10000))
                return false;
            qInfo("%s refreshed in %lld ms", qPrintable(p->config().name), t.elapsed());
            out.append(refreshed.at(0).at(0).value<PostgresNodeState>());
        }
        return true;
    }

    // Runs one query on a fresh connection and waits for it.
    static Result<PgReply> runOnce(const PgConnectOptions &options, const QString &sql,
                                   const QList<std::optional<QString>> &params = {})
    {
        PgConnection c;
        QSignalSpy connected(&c, &PgConnection::connected);
        QSignalSpy failed(&c, &PgConnection::connectFailed);
        c.open(options);
        if (!connected.wait(10000)) {
            return failed.isEmpty() ? Error{QStringLiteral("no answer"), {}, 0, 0}
                                    : failed.at(0).at(0).value<Error>();
        }
        std::optional<Result<PgReply>> result;
        c.query(sql, params, 10000, &c, [&result](const Result<PgReply> &r) { result = r; });
        if (!QTest::qWaitFor([&result] { return result.has_value(); }, 15000))
            return Error{QStringLiteral("query did not finish"), {}, 0, 0};
        return *result;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<PostgresNodeState>();
        qRegisterMetaType<PgpoolInstanceState>();
        qRegisterMetaType<Error>();
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        QVERIFY(!m_lab.secret(QStringLiteral("pg_monitor_password")).isEmpty());
    }

    void everyNodeReadOnePrimaryStandbysFollowIt()
    {
        const auto &s = m_lab.inventory().settings;
        QCOMPARE(s.postgresNodes.size(), 3);
        std::vector<std::unique_ptr<PgNodeProbe>> owned;
        QList<PgNodeProbe *> probes;
        for (const QString &node : s.postgresNodes.keys()) {
            owned.push_back(std::make_unique<PgNodeProbe>(nodeConfig(node)));
            probes.append(owned.back().get());
            probes.back()->start();
        }
        QElapsedTimer connecting;
        connecting.start();
        for (PgNodeProbe *p : probes)
            QTRY_VERIFY_WITH_TIMEOUT(p->isMonitorConnected() && p->isRepmgrConnected(), 10000);
        qInfo("3 nodes x 2 connections open after %lld ms", connecting.elapsed());

        // The lab owner may be running a drill: retry until the cluster is
        // steady (one primary, both standbys streaming from it), 60 s at most.
        QList<PostgresNodeState> nodes;
        QString primary;
        QString lastProblem;
        QElapsedTimer steady;
        steady.start();
        for (;;) {
            QVERIFY(refreshAll(probes, nodes));
            QStringList primaries;
            lastProblem.clear();
            for (const PostgresNodeState &n : std::as_const(nodes)) {
                if (!n.reachable || n.freshness.stale)
                    lastProblem += n.name + QStringLiteral(": ") + n.freshness.error + u' ';
                if (n.role == u"primary")
                    primaries.append(n.name);
            }
            if (primaries.size() == 1) {
                primary = primaries.first();
                for (const PostgresNodeState &n : std::as_const(nodes)) {
                    if (n.role == u"standby" &&
                        (n.upstream != primary || n.walReceiverStatus != u"streaming"))
                        lastProblem += n.name + QStringLiteral(" follows '") + n.upstream +
                                       QStringLiteral("' ") + n.walReceiverStatus + u' ';
                }
            } else {
                lastProblem += QStringLiteral("primaries: ") + primaries.join(u',');
            }
            if (lastProblem.isEmpty() || steady.elapsed() > 60000)
                break;
            QTest::qWait(1000); // the cluster needs time to settle, not our code
        }
        QVERIFY2(lastProblem.isEmpty(), qPrintable(lastProblem));

        for (const PostgresNodeState &n : std::as_const(nodes)) {
            const QString ctx = n.name;
            QVERIFY2(n.reachable && !n.freshness.stale, qPrintable(ctx));
            QVERIFY(n.freshness.readAt.isValid());
            QVERIFY2(n.version.startsWith(QStringLiteral("15.")), qPrintable(n.version));
            QVERIFY2(n.timeline >= 1, qPrintable(ctx));
            QVERIFY2(n.connections >= 1, qPrintable(ctx)); // at least ourselves
            QVERIFY2(n.xactCommit > 0, qPrintable(ctx));
            QCOMPARE(n.repmgr.size(), 3);
            for (const RepmgrNodeView &r : n.repmgr) {
                QVERIFY2(r.active, qPrintable(ctx + u' ' + r.name));
                QCOMPARE(r.type,
                         r.name == primary ? QStringLiteral("primary") : QStringLiteral("standby"));
                QVERIFY(!r.conninfo.contains(QStringLiteral("password=")) ||
                        r.conninfo.contains(QStringLiteral("password=***")));
            }
            if (n.name == primary) {
                QVERIFY(!n.currentLsn.isEmpty());
                QCOMPARE(n.lagBytes, qint64(0));
                QCOMPARE(n.replicas.size(), 2);
                QSet<QString> followers;
                for (const ReplicationLink &l : n.replicas) {
                    followers.insert(l.applicationName);
                    QCOMPARE(l.state, QStringLiteral("streaming"));
                    QVERIFY(!l.clientAddress.isEmpty());
                    // Sane: a few MB at most on an idle lab, and lags NULL (-1) or small.
                    QVERIFY2(l.lagBytes >= 0 && l.lagBytes < 64 * 1024 * 1024,
                             qPrintable(QString::number(l.lagBytes)));
                    QVERIFY(l.replayLagSeconds >= -1 && l.replayLagSeconds < 60);
                }
                QSet<QString> standbys(s.postgresNodes.keyBegin(), s.postgresNodes.keyEnd());
                standbys.remove(primary);
                QCOMPARE(followers, standbys);
            } else {
                QCOMPARE(n.role, QStringLiteral("standby"));
                QCOMPARE(n.upstream, primary);
                QVERIFY(n.currentLsn.isEmpty());
                QVERIFY(!n.receivedLsn.isEmpty());
                QVERIFY(!n.replayedLsn.isEmpty());
                QVERIFY2(n.lagBytes >= 0 && n.lagBytes < 64 * 1024 * 1024,
                         qPrintable(QString::number(n.lagBytes)));
                QVERIFY2(n.lagSeconds >= 0 && n.lagSeconds < 60,
                         qPrintable(QString::number(n.lagSeconds)));
            }
        }
        // Every node is on the primary's timeline.
        const int timeline = std::find_if(nodes.cbegin(), nodes.cend(), [&](const auto &n) {
                                 return n.name == primary;
                             })->timeline;
        for (const PostgresNodeState &n : std::as_const(nodes))
            QCOMPARE(n.timeline, timeline);
    }

    void repmgrEventsComeOnce()
    {
        const auto &s = m_lab.inventory().settings;
        PgNodeProbe probe(nodeConfig(s.postgresNodes.firstKey()));
        QSignalSpy events(&probe, &PgNodeProbe::repmgrEventsRead);
        QSignalSpy refreshed(&probe, &PgNodeProbe::refreshed);
        probe.start();
        QTRY_VERIFY_WITH_TIMEOUT(probe.isMonitorConnected(), 10000);
        // The repmgr connection opens alongside; a refresh reads it once it is up.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                probe.refresh();
                return refreshed.wait(5000) &&
                       !refreshed.constLast().at(0).value<PostgresNodeState>().repmgr.isEmpty();
            }(),
            20000);
        QCOMPARE(events.size(), 1);
        const auto first = events.at(0).at(1).value<QList<RepmgrEvent>>();
        QVERIFY(!first.isEmpty());
        QVERIFY(first.size() <= probe.config().eventBacklog);
        for (qsizetype i = 1; i < first.size(); ++i)
            QVERIFY(first.at(i - 1).timestamp <= first.at(i).timestamp);
        QVERIFY(first.constLast().timestamp.isValid());
        QVERIFY(first.constLast().timestamp <= QDateTime::currentDateTimeUtc().addSecs(5));

        // Unless repmgr writes something meanwhile, the next refresh brings nothing.
        refreshed.clear();
        probe.refresh();
        QVERIFY(refreshed.wait(5000));
        for (qsizetype i = 1; i < events.size(); ++i) {
            for (const RepmgrEvent &e : events.at(i).at(1).value<QList<RepmgrEvent>>())
                QVERIFY(e.timestamp >= first.constLast().timestamp);
        }
    }

    void eachPgpoolTaskOnItsOwn()
    {
        const auto &s = m_lab.inventory().settings;
        const QStringList hosts = m_lab.nodesOf(s.pgpoolService);
        QCOMPARE(hosts.size(), 2);
        QSet<QString> primaries;
        for (const QString &host : hosts) {
            PgpoolProbeConfig c;
            c.task = s.pgpoolService + u'@' + host;
            c.host = host;
            c.address = addressOf(host);
            c.port = s.pgpoolPort;
            c.database = s.database;
            c.user = s.monitorUser;
            c.password = m_lab.secret(QStringLiteral("pg_monitor_password"));
            c.applicationName = uniqueApplicationName(QStringLiteral("pgpool"));
            PgpoolProbe probe(c);
            QSignalSpy refreshed(&probe, &PgpoolProbe::refreshed);
            probe.start();
            QTRY_VERIFY_WITH_TIMEOUT(probe.isConnected(), 10000);
            // As above: a drill may be under way; wait for a settled view.
            PgpoolInstanceState state;
            QString problem;
            QElapsedTimer t;
            t.start();
            do {
                refreshed.clear();
                probe.refresh();
                QVERIFY(refreshed.wait(10000));
                state = refreshed.at(0).at(0).value<PgpoolInstanceState>();
                problem.clear();
                int up = 0;
                int primary = 0;
                for (const PgpoolBackend &b : std::as_const(state.backends)) {
                    up += b.status == u"up";
                    primary += b.role == u"primary" && b.pgRole == u"primary";
                }
                if (!state.reachable || up != 3 || primary != 1)
                    problem = QStringLiteral("%1: reachable=%2 up=%3 primaries=%4 %5")
                                  .arg(host)
                                  .arg(state.reachable)
                                  .arg(up)
                                  .arg(primary)
                                  .arg(state.freshness.error);
            } while (!problem.isEmpty() && t.elapsed() < 60000 && (QTest::qWait(1000), true));
            QVERIFY2(problem.isEmpty(), qPrintable(problem));

            QCOMPARE(state.host, host);
            QCOMPARE(state.task, c.task);
            QVERIFY(!state.freshness.stale);
            QCOMPARE(state.backends.size(), 3);
            QSet<QString> names;
            for (const PgpoolBackend &b : std::as_const(state.backends)) {
                names.insert(b.hostname);
                QCOMPARE(b.port, s.postgresPort);
                QCOMPARE(b.pgStatus, QStringLiteral("up"));
                QVERIFY2(b.healthCheckTotal > 0, qPrintable(host + u' ' + b.hostname));
                QVERIFY(b.healthCheckSuccess > 0 && b.healthCheckSuccess <= b.healthCheckTotal);
                QVERIFY(!b.lastSuccessfulHealthCheck.isEmpty());
                if (b.role == u"primary")
                    primaries.insert(b.hostname);
            }
            QCOMPARE(names, QSet<QString>(s.postgresNodes.keyBegin(), s.postgresNodes.keyEnd()));
        }
        // Both tasks name the same primary, and it is the one the databases name.
        QCOMPARE(primaries.size(), 1);
        const auto &nodes = s.postgresNodes;
        for (auto it = nodes.cbegin(); it != nodes.cend(); ++it) {
            const auto r =
                runOnce(sideOptions(it.value()), QStringLiteral("select pg_is_in_recovery()"));
            QVERIFY2(r, why(r).constData());
            if (r.value().first().text(0, u"pg_is_in_recovery") == u"f")
                QCOMPARE(*primaries.cbegin(), it.key());
        }
    }

    void terminatedMonitorSessionIsNoticedAndRepaired()
    {
        const auto &s = m_lab.inventory().settings;
        const QString node = s.postgresNodes.firstKey();
        PgNodeProbe probe(nodeConfig(node));
        QSignalSpy lost(&probe, &PgNodeProbe::connectionLost);
        QSignalSpy connected(&probe, &PgNodeProbe::connected);
        probe.start();
        QVERIFY(connected.wait(10000));
        connected.clear();

        // A second session of the same role ends the probe's monitoring session.
        QElapsedTimer t;
        t.start();
        qint64 lostAt = -1;
        connect(&probe, &PgNodeProbe::connectionLost, this, [&] { lostAt = t.elapsed(); });
        const auto killed = runOnce(
            sideOptions(s.postgresNodes.value(node)),
            QStringLiteral("select count(pg_terminate_backend(pid)) as n from pg_stat_activity"
                           " where application_name = $1 and usename = current_user"
                           " and datname = $2"),
            {probe.config().applicationName, s.database});
        const qint64 terminatedAt = t.elapsed(); // the backend is gone by now
        QVERIFY2(killed, why(killed).constData());
        QCOMPARE(killed.value().first().text(0, u"n"), QStringLiteral("1"));
        // It may well have arrived while we were still reading the answer above.
        QTRY_VERIFY_WITH_TIMEOUT(lostAt >= 0, 2000);
        QCOMPARE(lost.size(), 1);
        qInfo("connectionLost %lld ms after pg_terminate_backend returned (negative: before)",
              lostAt - terminatedAt);
        QVERIFY2(lostAt - terminatedAt < 2000, qPrintable(QString::number(lostAt - terminatedAt)));
        const QString message = lost.at(0).at(0).value<Error>().message;
        QVERIFY2(message.startsWith(node + QStringLiteral(" (") +
                                    addressOf(s.postgresNodes.value(node))),
                 qPrintable(message));
        QVERIFY2(
            message.contains(QStringLiteral("terminating connection due to administrator command")),
            qPrintable(message));

        // It comes back by itself (first backoff step 250 ms) and reads again.
        QTRY_VERIFY_WITH_TIMEOUT(!connected.isEmpty(), 5000);
        qInfo("reconnected %lld ms after the termination", t.elapsed() - terminatedAt);
        QSignalSpy refreshed(&probe, &PgNodeProbe::refreshed);
        probe.refresh();
        QVERIFY(refreshed.wait(5000));
        const auto state = refreshed.at(0).at(0).value<PostgresNodeState>();
        QVERIFY(state.reachable);
        QVERIFY(!state.freshness.stale);
    }

    void queryTimeoutEndsTheServersWork()
    {
        const auto &s = m_lab.inventory().settings;
        const QString host = s.postgresNodes.first();
        PgConnectOptions o = sideOptions(host);
        o.applicationName = uniqueApplicationName(QStringLiteral("sleeper"));
        PgConnection c;
        QSignalSpy connected(&c, &PgConnection::connected);
        QSignalSpy lost(&c, &PgConnection::connectionLost);
        c.open(o);
        QVERIFY(connected.wait(10000));
        std::optional<Result<PgReply>> result;
        QElapsedTimer t;
        t.start();
        c.query(QStringLiteral("select pg_sleep(30)"), 300, this,
                [&result](const Result<PgReply> &r) { result = r; });
        QTRY_VERIFY_WITH_TIMEOUT(result.has_value(), 2000);
        QVERIFY(t.elapsed() < 1500);
        QVERIFY(!*result);
        QVERIFY(result->error().message.endsWith(QStringLiteral("query timed out after 300 ms")));
        QCOMPARE(lost.size(), 1);
        // The server notices the closed socket within client_connection_check_interval
        // (1 s) and ends that backend, instead of sleeping on for 30 s.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                const auto r = runOnce(sideOptions(host),
                                       QStringLiteral("select count(*) as n from pg_stat_activity"
                                                      " where application_name = $1"),
                                       {o.applicationName});
                return r && r.value().first().text(0, u"n") == u"0";
            }(),
            5000);
        qInfo("the server's backend was gone %lld ms after the query was sent", t.elapsed());
    }

    void wrongPasswordSaysWhereAndWhy()
    {
        const auto &s = m_lab.inventory().settings;
        PgConnectOptions o = sideOptions(s.postgresNodes.first());
        o.password = QStringLiteral("certainly-wrong");
        o.label = QStringLiteral("pg-1");
        PgConnection c;
        QSignalSpy failed(&c, &PgConnection::connectFailed);
        c.open(o);
        QVERIFY(failed.wait(10000));
        const QString message = failed.at(0).at(0).value<Error>().message;
        QVERIFY2(
            message.startsWith(
                QStringLiteral("pg-1 (%1:%2, db %3): ").arg(o.host).arg(o.port).arg(o.database)),
            qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("password authentication failed")),
                 qPrintable(message));
        QVERIFY(!message.contains(o.password));
    }
};

QTEST_GUILESS_MAIN(TestPgLab)
#include "tst_pg_lab.moc"
