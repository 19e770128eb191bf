// Faults the stack itself must survive, whatever the console does: here, a
// failover that repmgrd does not hold. repmgrd elects once when its primary
// goes; a standby whose repmgrd is restarted while the primary is gone
// cannot start at all (it needs its upstream), and one whose election was
// cancelled waits for a primary that never comes. ph-postgres's supervisor
// then holds the election itself (deploy-stacks/README.md, "Stalled
// election"); this test makes that happen on the lab and checks that it
// does, by the supervisor, and that the cluster comes back whole.

#include "app/connectors/ssh/sshcommand.h"

#include <QDateTime>
#include <QTest>

#include "tests/integration/labaccess.h"

namespace {

const QString LabScript = QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/lab/lab");

} // namespace

class TestStackFaultsLab final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;
    QString m_stoppedHost; // an engine this test stopped and must start again

    QString hostOf(const QString &node) const
    {
        return m_lab.inventory().settings.postgresNodes.value(node);
    }

    // A command inside a node's container, run through its host's engine
    // (`lab exec`, which needs no network: the host may be half cut off).
    LabAccess::Run inNode(const QString &node, const QString &command, int timeoutMs = 30000) const
    {
        const QString inner = QStringLiteral("docker exec -u postgres $(docker ps -q -f "
                                             "label=com.docker.swarm.service.name=%1_%2) "
                                             "sh -c %3")
                                  .arg(m_lab.inventory().settings.stack, node,
                                       Pilothouse::SshCommand::quoteForShell(command));
        return LabAccess::local(LabScript,
                                {QStringLiteral("exec"), hostOf(node), QStringLiteral("sh"),
                                 QStringLiteral("-c"), inner},
                                timeoutMs);
    }

    void startStoppedEngine()
    {
        if (m_stoppedHost.isEmpty())
            return;
        LabAccess::local(LabScript, {QStringLiteral("start-engine"), m_stoppedHost}, 120000);
        m_stoppedHost.clear();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        QVERIFY2(m_lab.ensurePrimary(QStringLiteral("pg-1")), qPrintable(m_lab.error()));
    }

    void cleanup() { startStoppedEngine(); }

    void cleanupTestCase()
    {
        startStoppedEngine();
        // Hand the lab on as it was found: healthy, pg-1 primary.
        QVERIFY2(m_lab.ensurePrimary(QStringLiteral("pg-1")), qPrintable(m_lab.error()));
    }

    // The primary's host stops and, within the same second, repmgrd is killed
    // on both standbys: their supervisors restart it, it exits (no upstream),
    // no repmgrd election happens. The supervisor of the standby repmgr would
    // elect (pg-2: same LSN, higher priority) promotes itself after
    // PH_POSTGRES_STALLED_ELECTION_SECS (15 s) and the other one follows it.
    void aFailoverRepmgrdDoesNotHoldIsHeldByTheSupervisor()
    {
        const QString oldPrimary = QStringLiteral("pg-1");
        const QStringList standbys = {QStringLiteral("pg-2"), QStringLiteral("pg-3")};
        const QString since = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);

        QString script =
            QStringLiteral("%1 stop-engine %2 & sleep 0.3\n")
                .arg(Pilothouse::SshCommand::quoteForShell(LabScript), hostOf(oldPrimary));
        for (const QString &node : standbys) {
            script += QStringLiteral("%1 exec %2 sh -c 'docker exec $(docker ps -q -f "
                                     "label=com.docker.swarm.service.name=%3_%4) "
                                     "sh -c \"kill \\$(cat /run/pilothouse/repmgrd.pid)\"' &\n")
                          .arg(Pilothouse::SshCommand::quoteForShell(LabScript), hostOf(node),
                               m_lab.inventory().settings.stack, node);
        }
        script += QStringLiteral("wait\n");
        m_stoppedHost = hostOf(oldPrimary);
        const auto fault = LabAccess::local(QStringLiteral("bash"), {QStringLiteral("-c"), script},
                                            60000);
        QVERIFY2(fault.ok(), fault.err.constData());

        // Within the supervisor's 15 s plus its 2 s tick and the promotion: one
        // standby is primary, and the other streams from it.
        QString newPrimary;
        const bool promoted = LabAccess::waitUntil(
            [&] {
                for (const QString &node : standbys) {
                    const auto r = inNode(node, QStringLiteral(
                                                    "psql -U postgres -h /var/run/postgresql "
                                                    "-XAtc 'SELECT pg_is_in_recovery()'"));
                    if (r.ok() && r.out.trimmed() == "f")
                        newPrimary = node;
                }
                return !newPrimary.isEmpty();
            },
            60000, 2000);
        QVERIFY2(promoted, "no standby became primary within 60 s of the primary's host stopping");
        QCOMPARE(newPrimary, QStringLiteral("pg-2"));

        // Promoted by the supervisor, not by a repmgrd that came back in time.
        const auto log = LabAccess::local(
            LabScript,
            {QStringLiteral("exec"), hostOf(newPrimary), QStringLiteral("sh"),
             QStringLiteral("-c"),
             QStringLiteral("docker logs --since %1 $(docker ps -q -f "
                            "label=com.docker.swarm.service.name=%2_%3) 2>&1")
                 .arg(since, m_lab.inventory().settings.stack, newPrimary)});
        QVERIFY2(log.out.contains("so promoting this node"),
                 "the new primary's log does not show the supervisor's election");

        const QString follower = standbys.at(standbys.indexOf(newPrimary) == 0 ? 1 : 0);
        const bool follows = LabAccess::waitUntil(
            [&] {
                const auto r = inNode(follower,
                                      QStringLiteral("psql -U postgres -h /var/run/postgresql "
                                                     "-XAtc \"SELECT sender_host FROM "
                                                     "pg_stat_wal_receiver WHERE status = "
                                                     "'streaming'\""));
                return r.ok() && r.out.trimmed() == newPrimary.toUtf8();
            },
            60000, 2000);
        QVERIFY2(follows, qPrintable(follower + QStringLiteral(" does not stream from ") +
                                     newPrimary + QStringLiteral(" within 60 s")));

        // The old primary's host comes back: the node rejoins as a standby and
        // the lab is healthy again, with the new primary.
        startStoppedEngine();
        QString status;
        const bool healthy = LabAccess::waitUntil(
            [&] { return LabAccess::labPrimary(&status) == newPrimary; }, 240000, 5000);
        QVERIFY2(healthy, qPrintable(QStringLiteral("the lab is not healthy with %1 primary "
                                                    "4 min after the old host came back:\n")
                                         .arg(newPrimary) +
                                     status));
    }
};

QTEST_GUILESS_MAIN(TestStackFaultsLab)
#include "tst_stack_faults_lab.moc"
