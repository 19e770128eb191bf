// The operations core against the lab's real etcd: the operation lock
// refused to a second holder with who and since, released to the next one,
// expiring with a killed holder's lease; a runbook step holding it; the audit
// trail mirrored to etcd, and `pilothouse audit verify` failing after an
// entry is edited. Never changes the cluster: everything lives under
// /pilothouse/pilothouse-test-<random>/ (a copy of the inventory names that
// stack) and is deleted at the end.

#include "app/connectors/etcd/etcdclient.h"
#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/connectors/etcd/etcdjson.h"
#include "app/operations/audittrail.h"
#include "app/operations/operationlock.h"
#include "app/operations/runbook.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include "tests/integration/labaccess.h"
#include "tests/testsupport.h"
#include <cstdio>
#include <memory>

using namespace Pilothouse;

namespace {

constexpr int AnswerMs = 15000;
constexpr char HoldKeyVariable[] = "PILOTHOUSE_OPS_CORE_HOLD_KEY";
constexpr char EndpointsVariable[] = "PILOTHOUSE_OPS_CORE_ENDPOINTS";

QString endpointsText(const QList<EtcdClusterProbe::Member> &members)
{
    QStringList parts;
    for (const auto &m : members)
        parts.append(m.name + u'=' + m.endpoint.toString());
    return parts.join(u',');
}

QList<EtcdClusterProbe::Member> endpointsFrom(const QString &text)
{
    QList<EtcdClusterProbe::Member> out;
    for (const QString &part : text.split(u',', Qt::SkipEmptyParts)) {
        const qsizetype eq = part.indexOf(u'=');
        out.append({part.left(eq), QString(), QUrl(part.mid(eq + 1))});
    }
    return out;
}

// The child process of killedHoldersLeaseExpires: takes the lock, says so,
// and keeps it alive until it is killed (or gives up after a minute).
int holdLockUntilKilled(const QByteArray &key)
{
    const auto members = endpointsFrom(qEnvironmentVariable(EndpointsVariable));
    OperationLock lock(members, key,
                       OperationLockHolder::current(QStringLiteral("drill kill-primary"),
                                                    QStringLiteral("holder that will be killed")));
    lock.setTtl(4);
    QObject::connect(&lock, &OperationLock::acquired, &lock, [] {
        std::fputs("held\n", stdout);
        std::fflush(stdout);
    });
    QObject::connect(&lock, &OperationLock::refused, &lock,
                     [](const OperationLockHolder &, const QString &message) {
                         std::fprintf(stderr, "refused: %s\n", qPrintable(message));
                         QCoreApplication::exit(3);
                     });
    QObject::connect(&lock, &OperationLock::failed, &lock, [](const Error &e) {
        std::fprintf(stderr, "failed: %s\n", qPrintable(e.message));
        QCoreApplication::exit(3);
    });
    QTimer::singleShot(60000, &lock, [] { QCoreApplication::exit(4); });
    lock.acquire();
    return QCoreApplication::exec();
}

struct LockAnswer
{
    enum Kind { None, Acquired, Refused, Failed } kind = None;
    OperationLockHolder holder;
    QString message;
};

// One acquire() and its answer.
LockAnswer acquireOnce(OperationLock &lock)
{
    LockAnswer answer;
    QObject context;
    QObject::connect(&lock, &OperationLock::acquired, &context,
                     [&answer] { answer.kind = LockAnswer::Acquired; });
    QObject::connect(&lock, &OperationLock::refused, &context,
                     [&answer](const OperationLockHolder &h, const QString &m) {
                         answer.kind = LockAnswer::Refused;
                         answer.holder = h;
                         answer.message = m;
                     });
    QObject::connect(&lock, &OperationLock::failed, &context, [&answer](const Error &e) {
        answer.kind = LockAnswer::Failed;
        answer.message = e.message;
    });
    lock.acquire();
    (void)QTest::qWaitFor([&answer] { return answer.kind != LockAnswer::None; }, AnswerMs);
    return answer;
}

bool releaseOnce(OperationLock &lock)
{
    QSignalSpy released(&lock, &OperationLock::released);
    lock.release();
    return released.wait(AnswerMs);
}

QList<QByteArray> fileLines(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QList<QByteArray> lines = f.readAll().split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    return lines;
}

void writeFileLines(const QString &path, const QList<QByteArray> &lines)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        qFatal("cannot write %s", qPrintable(path));
    for (const QByteArray &l : lines)
        f.write(l + '\n');
}

} // namespace

class TestOpsCoreLab final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;
    QList<EtcdClusterProbe::Member> m_members;
    QString m_stack;
    QByteArray m_root;
    QTemporaryDir m_dir;
    QString m_inventoryCopy;

    std::unique_ptr<EtcdClient> client(int index) const
    {
        const auto &m = m_members.at(index);
        return std::make_unique<EtcdClient>(m.endpoint, m.name);
    }

    LabAccess::Run pilothouse(const QStringList &args) const
    {
        return LabAccess::local(QStringLiteral(PILOTHOUSE_BINARY), args, 60000);
    }

    QList<EtcdKeyValue> mirrorValues()
    {
        auto c = client(2);
        const QByteArray prefix = AuditTrail::etcdPrefix(m_stack);
        const auto r = TestSupport::await<EtcdRangeResult>([&](auto done) {
            c->range({prefix, EtcdJson::prefixRangeEnd(prefix), 0, 0, false, false}, this, done);
        });
        return r && r->ok() ? r->value().kvs : QList<EtcdKeyValue>{};
    }

private Q_SLOTS:
    void initTestCase()
    {
        // The fault tests before this one leave the lab healing: wait for it.
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        QVERIFY(m_dir.isValid());
        m_members = EtcdClusterProbe::membersOf(m_lab.inventory());
        QCOMPARE(m_members.size(), 3);
        m_stack = QStringLiteral("pilothouse-test-") +
                  QString::number(QRandomGenerator::global()->generate64(), 16);
        m_root = "/pilothouse/" + m_stack.toUtf8() + '/';

        // The lab's inventory with another stack name: the CLI then reads and
        // writes this test's keys, never the cluster's own trail.
        QFile in(m_lab.inventory().path);
        QVERIFY(in.open(QIODevice::ReadOnly));
        QString text = QString::fromUtf8(in.readAll());
        static const QRegularExpression stackLine(QStringLiteral("(\\bstack:\\s*)pilothouse\\b"));
        QVERIFY(text.contains(stackLine));
        text.replace(stackLine, QStringLiteral("\\1") + m_stack);
        m_inventoryCopy = m_dir.filePath(QStringLiteral("inventory.yaml"));
        QFile out(m_inventoryCopy);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(text.toUtf8());
    }

    void cleanupTestCase()
    {
        if (m_members.isEmpty())
            return;
        auto c = client(0);
        const auto r = TestSupport::await<EtcdDeleteResult>([&](auto done) {
            c->deleteRange({m_root, EtcdJson::prefixRangeEnd(m_root), false}, this, done);
        });
        REQUIRE_OK(r);
    }

    void etcdHasQuorumSoNothingRefuses()
    {
        EtcdClusterProbe probe(m_members);
        QSignalSpy finished(&probe, &EtcdClusterProbe::finished);
        probe.refresh();
        QVERIFY(finished.wait(AnswerMs));
        const auto reading = finished.at(0).at(0).value<EtcdReading>();
        const auto refusal =
            OperationLock::quorumRefusal(reading.state, QStringLiteral("switchover"));
        QVERIFY2(!refusal, qPrintable(refusal ? refusal->message : QString()));
    }

    void secondHolderIsRefusedWithWhoAndSince()
    {
        const QByteArray key = OperationLock::keyFor(m_stack);
        QCOMPARE(key, m_root + "lock");
        OperationLockHolder alice = OperationLockHolder::current(QStringLiteral("switchover"),
                                                                 QStringLiteral("kernel update"));
        alice.user = QStringLiteral("alice");
        alice.host = QStringLiteral("ws1");
        alice.pid = 4242;
        // Each through a different first member.
        QList<EtcdClusterProbe::Member> viaSecond = m_members;
        viaSecond.move(1, 0);
        OperationLock first(m_members, key, alice);
        first.setTtl(3);
        OperationLock second(
            viaSecond, key, OperationLockHolder::current(QStringLiteral("drill kill-primary"), {}));
        QStringList trouble;
        for (OperationLock *l : {&first, &second}) {
            connect(l, &OperationLock::lost, this,
                    [&](const Error &e) { trouble.append(e.message); });
            connect(l, &OperationLock::renewalFailing, this,
                    [&](const Error &e, double) { trouble.append(e.message); });
        }

        LockAnswer a = acquireOnce(first);
        QVERIFY2(a.kind == LockAnswer::Acquired, qPrintable(a.message));
        QVERIFY(first.isHeld());
        QVERIFY(first.lease() != 0);

        LockAnswer b = acquireOnce(second);
        QVERIFY2(b.kind == LockAnswer::Refused, qPrintable(b.message));
        QCOMPARE(b.holder.operation, QStringLiteral("switchover"));
        QCOMPARE(b.holder.user, QStringLiteral("alice"));
        QCOMPARE(b.holder.host, QStringLiteral("ws1"));
        QCOMPARE(b.holder.pid, 4242);
        QCOMPARE(b.holder.reason, QStringLiteral("kernel update"));
        QCOMPARE(b.holder.lease, first.lease());
        QVERIFY(qAbs(b.holder.since.secsTo(QDateTime::currentDateTimeUtc())) < 30);
        const QString since = b.holder.since.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
        QVERIFY2(b.message.contains(
                     QStringLiteral("switchover by alice@ws1 since %1 (pid 4242)").arg(since)),
                 qPrintable(b.message));
        QCOMPARE(second.state(), OperationLock::State::Idle);

        // Kept alive past its 3 s TTL by renewals only.
        QTest::qWait(4500); // a duration under test, not a wait for an event
        QVERIFY(first.isHeld());
        QVERIFY2(trouble.isEmpty(), qPrintable(trouble.join(u'\n')));
        b = acquireOnce(second);
        QVERIFY2(b.kind == LockAnswer::Refused, qPrintable(b.message));

        std::optional<Result<std::optional<OperationLockHolder>>> seen;
        second.readHolder(this,
                          [&](Result<std::optional<OperationLockHolder>> r) { seen.emplace(r); });
        QTRY_VERIFY_WITH_TIMEOUT(seen.has_value(), AnswerMs);
        QVERIFY(seen->ok() && seen->value().has_value());
        QCOMPARE(seen->value()->user, QStringLiteral("alice"));

        QVERIFY(releaseOnce(first));
        b = acquireOnce(second);
        QVERIFY2(b.kind == LockAnswer::Acquired, qPrintable(b.message));
        a = acquireOnce(first);
        QVERIFY2(a.kind == LockAnswer::Refused, qPrintable(a.message));
        QVERIFY(a.message.contains(QStringLiteral("drill kill-primary by ")));
        QVERIFY(releaseOnce(second));
        QVERIFY2(trouble.isEmpty(), qPrintable(trouble.join(u'\n')));
    }

    void killedHoldersLeaseExpires()
    {
        const QByteArray key = m_root + "lock-killed";
        QProcess holder;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QString::fromLatin1(HoldKeyVariable), QString::fromUtf8(key));
        env.insert(QString::fromLatin1(EndpointsVariable), endpointsText(m_members));
        holder.setProcessEnvironment(env);
        holder.start(QCoreApplication::applicationFilePath(), {});
        QVERIFY(holder.waitForStarted(5000));
        QByteArray said;
        QTRY_VERIFY_WITH_TIMEOUT((said += holder.readAllStandardOutput()).contains("held") ||
                                     holder.state() != QProcess::Running,
                                 AnswerMs);
        QVERIFY2(holder.state() == QProcess::Running, holder.readAllStandardError().constData());

        OperationLock next(m_members, key,
                           OperationLockHolder::current(QStringLiteral("switchover"), {}));
        LockAnswer answer = acquireOnce(next);
        QVERIFY2(answer.kind == LockAnswer::Refused, qPrintable(answer.message));
        QCOMPARE(answer.holder.pid, holder.processId());
        QCOMPARE(answer.holder.operation, QStringLiteral("drill kill-primary"));

        holder.kill(); // SIGKILL: no release, no revoke
        QVERIFY(holder.waitForFinished(5000));
        QElapsedTimer sinceKill;
        sinceKill.start();
        int refusals = 0;
        while (sinceKill.elapsed() < 15000) {
            answer = acquireOnce(next);
            if (answer.kind == LockAnswer::Acquired)
                break;
            QVERIFY2(answer.kind == LockAnswer::Refused, qPrintable(answer.message));
            ++refusals;
            QTest::qWait(300); // polls etcd while the lease runs out
        }
        QVERIFY2(answer.kind == LockAnswer::Acquired, "the killed holder's lock never expired");
        const qint64 ms = sinceKill.elapsed();
        qInfo("lock free %lld ms after its holder was killed (TTL 4 s, %d refusals before)", ms,
              refusals);
        QVERIFY(refusals > 0); // the lease outlived the process for a while
        QVERIFY2(ms <= 4000 + 3000, qPrintable(QString::number(ms)));
        QVERIFY(releaseOnce(next));
    }

    void runbookStepHoldsTheLockUntilTheEnd()
    {
        const QByteArray key = m_root + "lock-runbook";
        OperationLock lock(
            m_members, key,
            OperationLockHolder::current(QStringLiteral("switchover"), QStringLiteral("test")));
        OperationLock other(m_members, key,
                            OperationLockHolder::current(QStringLiteral("drill"), {}));
        LockAnswer during;
        Runbook runbook(RunbookNode::sequence(
            QStringLiteral("switchover"),
            {lock.acquireStep(),
             RunbookNode::step(QStringLiteral("act"), AnswerMs, [&](RunbookStep::Done done) {
                 during = acquireOnce(other);
                 done(QString());
             })}));
        QSignalSpy finished(&runbook, &Runbook::finished);
        runbook.start();
        QVERIFY(finished.wait(AnswerMs * 2));
        const auto report = finished.at(0).at(0).value<RunbookReport>();
        QVERIFY2(report.succeeded(), qPrintable(report.toText()));
        QVERIFY2(during.kind == LockAnswer::Refused, qPrintable(during.message));
        QVERIFY(!lock.isHeld());
        const RunbookStepReport *undo =
            report.step(QStringLiteral("switchover/take the operation lock/undo"));
        QVERIFY(undo);
        QCOMPARE(undo->outcome, RunbookOutcome::Succeeded);
        LockAnswer after = acquireOnce(other);
        QVERIFY2(after.kind == LockAnswer::Acquired, qPrintable(after.message));
        QVERIFY(releaseOnce(other));
    }

    void auditMirroredAndVerifiedByTheCli()
    {
        const QString path = m_dir.filePath(QStringLiteral("audit/lab.jsonl"));
        const QString repmgrPassword = m_lab.secret(QStringLiteral("pg_repmgr_password"));
        QVERIFY(repmgrPassword.size() >= 4);
        {
            AuditTrail trail(path);
            trail.setMirror(m_members, AuditTrail::etcdPrefix(m_stack));
            trail.masker().addSecretsDir(m_lab.inventory().settings.secretsDir);
            QVERIFY(trail.masker().secretCount() > 0);
            trail.setOperation(QStringLiteral("switchover pg-2"),
                               QStringLiteral("integration test"));
            QSignalSpy mirrored(&trail, &AuditTrail::mirrored);
            QVERIFY(trail.record(AuditKind::Operation, QStringLiteral("cluster"),
                                 QStringLiteral("switchover --to pg-2"), QStringLiteral("started"),
                                 true));
            QVERIFY(trail.record(AuditKind::Docker, QStringLiteral("pg-1"),
                                 QStringLiteral("exec PGPASSWORD=") + repmgrPassword +
                                     QStringLiteral(" repmgr standby switchover --dry-run"),
                                 QStringLiteral("exit 0"), true));
            QVERIFY(trail.record(AuditKind::Sql, QStringLiteral("pg-2"),
                                 QStringLiteral("SELECT pg_is_in_recovery()"), QStringLiteral("t"),
                                 true));
            QVERIFY(trail.record(AuditKind::Operation, QStringLiteral("cluster"), {},
                                 QStringLiteral("finished"), true));
            const auto flushed =
                TestSupport::await<int>([&](auto done) { trail.flush(this, done); }, AnswerMs);
            REQUIRE_OK(flushed);
            QCOMPARE(flushed->value(), 4);
            QCOMPARE(mirrored.size(), 4);
            QCOMPARE(trail.pendingMirrors(), 0);
        }
        const QList<QByteArray> lines = fileLines(path);
        QCOMPARE(lines.size(), 4);
        const QList<EtcdKeyValue> kvs = mirrorValues();
        QCOMPARE(kvs.size(), 4);
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(kvs.at(i).key, AuditTrail::etcdKey(AuditTrail::etcdPrefix(m_stack), i + 1));
            QCOMPARE(kvs.at(i).value, lines.at(i));
            QVERIFY(!kvs.at(i).value.contains(repmgrPassword.toUtf8()));
        }
        QVERIFY(lines.at(1).contains("PGPASSWORD=***"));

        // Another console's file catches up from etcd.
        {
            AuditTrail other(m_dir.filePath(QStringLiteral("audit/other.jsonl")));
            other.setMirror(m_members, AuditTrail::etcdPrefix(m_stack));
            const auto synced = TestSupport::await<int>(
                [&](auto done) { other.syncFromEtcd(this, done); }, AnswerMs);
            REQUIRE_OK(synced);
            QCOMPARE(synced->value(), 4);
            QCOMPARE(other.lastSeq(), 4);
        }
        QCOMPARE(fileLines(m_dir.filePath(QStringLiteral("audit/other.jsonl"))), lines);

        const QStringList verify{QStringLiteral("audit"),       QStringLiteral("verify"),
                                 QStringLiteral("--inventory"), m_inventoryCopy,
                                 QStringLiteral("--file"),      path};
        LabAccess::Run run = pilothouse(verify);
        QVERIFY2(run.exitCode == 0, QByteArray(run.out + run.err).constData());
        QVERIFY(run.out.contains("audit trail intact"));
        run = pilothouse(verify + QStringList{QStringLiteral("--json")});
        QCOMPARE(run.exitCode, 0);
        QJsonObject json = QJsonDocument::fromJson(run.out).object();
        QCOMPARE(json.value(QStringLiteral("intact")).toBool(), true);
        QCOMPARE(
            json.value(QStringLiteral("etcd")).toObject().value(QStringLiteral("entries")).toInt(),
            4);

        run = pilothouse({QStringLiteral("audit"), QStringLiteral("list"),
                          QStringLiteral("--inventory"), m_inventoryCopy, QStringLiteral("--file"),
                          path});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.contains("switchover --to pg-2"), run.out.constData());
        QCOMPARE(run.out.count('\n'), 5);

        // Edit one field of entry 2 in the file.
        QList<QByteArray> edited = lines;
        QJsonObject o = QJsonDocument::fromJson(edited.at(1)).object();
        o.insert(QStringLiteral("result"), QStringLiteral("exit 1"));
        edited[1] = QJsonDocument(o).toJson(QJsonDocument::Compact);
        writeFileLines(path, edited);
        run = pilothouse(verify);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("first bad entry: seq 2, line 2") &&
                     run.err.contains("seq 2 was edited"),
                 run.err.constData());
        run = pilothouse(verify + QStringList{QStringLiteral("--json")});
        QCOMPARE(run.exitCode, 1);
        json = QJsonDocument::fromJson(run.out).object();
        QCOMPARE(json.value(QStringLiteral("broken_seq")).toInteger(), 2);
        QCOMPARE(json.value(QStringLiteral("line")).toInt(), 2);

        // The file restored, the mirror's entry 3 overwritten behind the trail's back.
        writeFileLines(path, lines);
        QCOMPARE(pilothouse(verify).exitCode, 0);
        QJsonObject forged = QJsonDocument::fromJson(lines.at(2)).object();
        forged.insert(QStringLiteral("target"), QStringLiteral("pg-3"));
        auto c = client(0);
        const auto put = TestSupport::await<EtcdPutResult>([&](auto done) {
            c->put({AuditTrail::etcdKey(AuditTrail::etcdPrefix(m_stack), 3),
                    QJsonDocument(forged).toJson(QJsonDocument::Compact), 0, false},
                   this, done);
        });
        REQUIRE_OK(put);
        run = pilothouse(verify);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("seq 3") && run.err.contains("etcd"), run.err.constData());
        // Offline, the file alone is intact.
        QCOMPARE(pilothouse(verify + QStringList{QStringLiteral("--offline")}).exitCode, 0);

        // A file that cannot be read.
        run = pilothouse({QStringLiteral("audit"), QStringLiteral("verify"),
                          QStringLiteral("--inventory"), m_inventoryCopy, QStringLiteral("--file"),
                          m_dir.path()});
        QCOMPARE(run.exitCode, 2);
    }
};

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QByteArray holdKey = qgetenv(HoldKeyVariable);
    if (!holdKey.isEmpty())
        return holdLockUntilKilled(holdKey);
    TestOpsCoreLab test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_ops_core_lab.moc"
