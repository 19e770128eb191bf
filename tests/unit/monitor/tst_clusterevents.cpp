// Timeline entries from Docker events (tests/fixtures/docker/events.jsonl,
// captured from the lab's engine: see that folder's README), repmgr events
// and two snapshots.

#include "app/connectors/docker/dockerreaders.h"
#include "app/monitor/clusterevents.h"

#include <QTest>

#include "tests/testsupport.h"

using namespace Pilothouse;

class TestClusterEvents final : public QObject
{
    Q_OBJECT

private:
    static QList<DockerEvent> capturedEvents()
    {
        QList<DockerEvent> out;
        for (const QByteArray &line : TestSupport::fixture("docker", "events.jsonl").split('\n')) {
            if (line.trimmed().isEmpty())
                continue;
            auto e = DockerReaders::readEvent(line);
            if (e)
                out.append(e.value());
        }
        return out;
    }

    static ClusterSnapshot healthy()
    {
        ClusterSnapshot s;
        s.takenAt = QDateTime(QDate(2026, 11, 26), QTime(9, 0), Qt::UTC);
        for (int i = 1; i <= 3; ++i) {
            PostgresNodeState n;
            n.name = QStringLiteral("pg-%1").arg(i);
            n.host = QStringLiteral("swarm-0%1").arg(i);
            n.reachable = true;
            n.role = i == 1 ? QStringLiteral("primary") : QStringLiteral("standby");
            n.timeline = 1;
            s.postgres.append(n);
        }
        return s;
    }

private Q_SLOTS:
    void healthChecksAreNotNews()
    {
        const QList<DockerEvent> events = capturedEvents();
        QVERIFY(events.size() > 200);
        int kept = 0;
        for (const DockerEvent &e : events) {
            const auto c = ClusterEvents::fromDocker(e, QStringLiteral("swarm-01"));
            if (e.action.startsWith(u"exec_"))
                QVERIFY2(!c, qPrintable(e.action));
            if (c) {
                ++kept;
                QCOMPARE(c->source, QStringLiteral("swarm"));
                QVERIFY(!c->text.isEmpty());
                QVERIFY(!c->key.isEmpty());
                QVERIFY(c->at.isValid());
            }
        }
        // create x3, die, kill, remove, start, update x4 in the capture.
        QCOMPARE(kept, 11);
    }

    void killedContainerIsAWarningNamingItsService()
    {
        for (const DockerEvent &e : capturedEvents()) {
            if (e.type != u"container" || e.action != u"die")
                continue;
            const auto c = ClusterEvents::fromDocker(e, QStringLiteral("swarm-01"));
            QVERIFY(c);
            QCOMPARE(c->severity, Severity::Warning);
            QVERIFY2(c->text.contains(u"pilothouse_pg-1") && c->text.contains(u"exit code 137") &&
                         c->text.contains(u"swarm-01"),
                     qPrintable(c->text));
            QCOMPARE(c->objects, QStringList{QStringLiteral("host:swarm-01")});
            return;
        }
        QFAIL("the capture has no container die event");
    }

    void serviceEventFromEveryManagerIsOneEntry()
    {
        for (const DockerEvent &e : capturedEvents()) {
            if (e.type != u"service")
                continue;
            const auto a = ClusterEvents::fromDocker(e, QStringLiteral("swarm-01"));
            const auto b = ClusterEvents::fromDocker(e, QStringLiteral("swarm-02"));
            QVERIFY(a && b);
            QCOMPARE(a->key, b->key);
            return;
        }
        QFAIL("the capture has no service event");
    }

    void repmgrEventsNameTheirNode()
    {
        RepmgrNodeView n2;
        n2.nodeId = 2;
        n2.name = QStringLiteral("pg-2");
        RepmgrEvent promote;
        promote.nodeId = 2;
        promote.event = QStringLiteral("repmgrd_failover_promote");
        promote.successful = true;
        promote.timestamp = QDateTime(QDate(2026, 11, 26), QTime(9, 1, 2), Qt::UTC);
        promote.details =
            QStringLiteral("node 2 promoted to primary; old primary 1 marked as failed");
        RepmgrEvent failed = promote;
        failed.nodeId = 7;
        failed.event = QStringLiteral("standby_follow");
        failed.successful = false;

        const QList<ClusterEvent> out = ClusterEvents::fromRepmgr({promote, failed}, {n2});
        QCOMPARE(out.size(), 2);
        QCOMPARE(out[0].objects, QStringList{QStringLiteral("pg:pg-2")});
        QVERIFY(out[0].text.startsWith(u"repmgrd_failover_promote on pg-2: node 2 promoted"));
        QCOMPARE(out[0].severity, Severity::Info);
        QVERIFY(out[1].text.contains(u"node 7") && out[1].text.contains(u"(failed)"));
        QCOMPARE(out[1].severity, Severity::Warning);
        QVERIFY(out[1].objects.isEmpty());
        // The same row read from another node's copy is the same entry.
        QCOMPARE(ClusterEvents::fromRepmgr({promote}, {}).first().key, out[0].key);
    }

    void failoverBetweenSnapshots()
    {
        const ClusterSnapshot before = healthy();
        ClusterSnapshot after = before;
        after.takenAt = before.takenAt.addSecs(5);
        after.postgres[0].reachable = false;
        after.postgres[1].role = QStringLiteral("primary");
        after.postgres[1].timeline = 2;
        after.findings.append({Severity::Critical,
                               QStringLiteral("pg-unreachable"),
                               QStringLiteral("pg-1 does not answer"),
                               {QStringLiteral("pg:pg-1")}});

        const QList<ClusterEvent> out = ClusterEvents::fromSnapshots(before, after);
        const auto find = [&](const QString &text) {
            for (const ClusterEvent &e : out) {
                if (e.text.contains(text))
                    return e;
            }
            return ClusterEvent{};
        };
        const ClusterEvent finding = find(QStringLiteral("pg-1 does not answer"));
        QCOMPARE(finding.source, QStringLiteral("finding"));
        QCOMPARE(finding.severity, Severity::Critical);
        QCOMPARE(finding.at, after.takenAt);
        const ClusterEvent role = find(QStringLiteral("pg:pg-2.role"));
        QCOMPARE(role.source, QStringLiteral("change"));
        QCOMPARE(role.severity, Severity::Warning);
        QCOMPARE(role.objects, QStringList{QStringLiteral("pg:pg-2")});
        QVERIFY(role.text.contains(u"standby") && role.text.contains(u"primary"));
        QCOMPARE(find(QStringLiteral("pg:pg-1.reachable")).severity, Severity::Warning);

        // And back: the finding clears, as an entry of its own.
        ClusterSnapshot healed = after;
        healed.takenAt = after.takenAt.addSecs(30);
        healed.findings.clear();
        // A layer answering for the first time is not an entry of its own.
        EtcdMemberState etcd1;
        etcd1.name = QStringLiteral("etcd1");
        etcd1.healthy = true;
        healed.etcd.members.append(etcd1);
        const QList<ClusterEvent> back = ClusterEvents::fromSnapshots(after, healed);
        QCOMPARE(back.size(), 1);
        QVERIFY(back[0].text.startsWith(u"Cleared: pg-1 does not answer"));
        QCOMPARE(back[0].severity, Severity::Info);
        // Nothing changed: nothing to say.
        QVERIFY(ClusterEvents::fromSnapshots(healed, healed).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestClusterEvents)
#include "tst_clusterevents.moc"
