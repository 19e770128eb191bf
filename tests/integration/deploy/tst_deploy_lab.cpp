// `pilothouse deploy` against the lab's real Swarm, next to the real docker
// CLI: the same stack file deployed by `docker stack deploy` and by the
// console gives the same service specs field by field (names and IDs aside);
// a second run changes nothing; a change is planned and applied to that
// service only; a failing update is rolled back; a bad file and a conflict
// change nothing; the audit trail has every request and no secret.
// Uses its own stacks (phtest-cli, phtest-con) of the sample stack; never
// touches the lab's pilothouse stack.

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include "tests/integration/labaccess.h"

namespace {

const QString SampleDir = QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/deploy");
const QString Engine = QStringLiteral("unix:///var/lib/pilothouse-lab/hosts/swarm-01/run/docker.sock");
const QString CliStack = QStringLiteral("phtest-cli");
const QString ConsoleStack = QStringLiteral("phtest-con");

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run run(const QString &program, const QStringList &args, const QHash<QString, QString> &env,
        int timeoutMs = 240000)
{
    QProcess p;
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    for (auto it = env.cbegin(); it != env.cend(); ++it)
        e.insert(it.key(), it.value());
    p.setProcessEnvironment(e);
    p.setWorkingDirectory(SampleDir);
    p.start(program, args);
    Run r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5000);
        r.err = "timed out: " + program.toUtf8();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QString why(const Run &r)
{
    return QStringLiteral("exit %1\n%2\n%3").arg(r.exitCode).arg(QString::fromUtf8(r.out), QString::fromUtf8(r.err));
}

// Replaces the stack's name (in names, labels and aliases) and drops IDs, so
// that two stacks' specs can be compared.
QJsonValue normalized(const QJsonValue &v, const QString &stack)
{
    if (v.isObject()) {
        QJsonObject o;
        const QJsonObject in = v.toObject();
        for (auto it = in.begin(); it != in.end(); ++it) {
            if (it.key() == u"SecretID" || it.key() == u"ConfigID" ||
                (it.key() == u"Target" && it.value().isString() && !it.value().toString().startsWith(u'/')))
                continue; // IDs (a network's Target is its ID)
            o.insert(it.key(), normalized(it.value(), stack));
        }
        return o;
    }
    if (v.isArray()) {
        QList<QJsonValue> items;
        for (const QJsonValue &x : v.toArray())
            items.append(normalized(x, stack));
        // The docker CLI orders secrets and configs by name only: two
        // references to one secret come in either order.
        std::stable_sort(items.begin(), items.end(), [](const QJsonValue &a, const QJsonValue &b) {
            const QJsonObject x = a.toObject(), y = b.toObject();
            return x.contains(QStringLiteral("File")) && y.contains(QStringLiteral("File")) &&
                   x.value(QStringLiteral("File")).toObject().value(QStringLiteral("Name")).toString() <
                       y.value(QStringLiteral("File")).toObject().value(QStringLiteral("Name")).toString();
        });
        QJsonArray a;
        for (const QJsonValue &x : std::as_const(items))
            a.append(x);
        return a;
    }
    if (v.isString()) {
        QString s = v.toString();
        if (s == stack)
            return QStringLiteral("STACK");
        s.replace(stack + u'_', QStringLiteral("STACK_"));
        return s;
    }
    return v;
}

QString firstDifference(const QJsonValue &a, const QJsonValue &b, const QString &at = {})
{
    if (a.isObject() && b.isObject()) {
        QStringList keys = a.toObject().keys() + b.toObject().keys();
        keys.removeDuplicates();
        keys.sort();
        for (const QString &k : std::as_const(keys)) {
            const QString d = firstDifference(a.toObject().value(k), b.toObject().value(k), at + u'.' + k);
            if (!d.isEmpty())
                return d;
        }
        return {};
    }
    if (a.isArray() && b.isArray() && a.toArray().size() == b.toArray().size()) {
        for (qsizetype i = 0; i < a.toArray().size(); ++i) {
            const QString d = firstDifference(a.toArray().at(i), b.toArray().at(i), at + QStringLiteral("[%1]").arg(i));
            if (!d.isEmpty())
                return d;
        }
        return {};
    }
    if (a == b)
        return {};
    auto show = [](const QJsonValue &v) {
        return QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact));
    };
    return QStringLiteral("%1: %2 vs %3").arg(at, show(a), show(b));
}

} // namespace

class TestDeployLab : public QObject
{
    Q_OBJECT

    LabAccess m_lab;
    QTemporaryDir m_home; // the console's audit trail and settings
    QHash<QString, QString> m_env;

    Run docker(const QStringList &args) { return run(QStringLiteral("docker"), args, m_env); }
    Run pilothouse(const QStringList &args, const QHash<QString, QString> &extra = {})
    {
        QHash<QString, QString> env = m_env;
        env.insert(extra);
        return run(QStringLiteral(PILOTHOUSE_BINARY), QStringList{QStringLiteral("deploy")} + args, env);
    }
    QStringList deployArgs(const QString &stack) const
    {
        return {QStringLiteral("--inventory"), m_lab.inventory().path,
                QStringLiteral("--stack"), SampleDir + QStringLiteral("/sample-stack.yml"),
                QStringLiteral("--name"), stack,
                QStringLiteral("--reason"), QStringLiteral("tst_deploy_lab"),
                QStringLiteral("--converge-timeout"), QStringLiteral("120")};
    }
    // The stored specs of a stack's services, by service key.
    QHash<QString, QJsonObject> specs(const QString &stack)
    {
        QHash<QString, QJsonObject> out;
        for (const QString &key : {QStringLiteral("web"), QStringLiteral("worker")}) {
            const Run r = docker({QStringLiteral("service"), QStringLiteral("inspect"), stack + u'_' + key});
            if (r.exitCode == 0)
                out.insert(key, QJsonDocument::fromJson(r.out).array().at(0).toObject());
        }
        return out;
    }
    void removeStack(const QString &stack)
    {
        docker({QStringLiteral("stack"), QStringLiteral("rm"), stack});
        // Networks go last and take a few seconds.
        QTRY_VERIFY_WITH_TIMEOUT(
            docker({QStringLiteral("network"), QStringLiteral("ls"), QStringLiteral("-q"), QStringLiteral("--filter"),
                    QStringLiteral("label=com.docker.stack.namespace=") + stack})
                .out.trimmed()
                .isEmpty(),
            60000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        QVERIFY(m_home.isValid());
        m_env = {{QStringLiteral("DOCKER_HOST"), Engine},
                 {QStringLiteral("SAMPLE_IMAGE"), QStringLiteral("pilothouse/app:lab")},
                 {QStringLiteral("XDG_DATA_HOME"), m_home.filePath(QStringLiteral("data"))},
                 {QStringLiteral("XDG_CONFIG_HOME"), m_home.filePath(QStringLiteral("config"))}};
        removeStack(CliStack);
        removeStack(ConsoleStack);
    }

    void sameSpecsAsTheDockerCli()
    {
        const Run cli = docker({QStringLiteral("stack"), QStringLiteral("deploy"), QStringLiteral("--resolve-image"),
                                QStringLiteral("never"), QStringLiteral("-c"), SampleDir + QStringLiteral("/sample-stack.yml"),
                                CliStack});
        QVERIFY2(cli.exitCode == 0, qPrintable(why(cli)));
        const QHash<QString, QJsonObject> theirs = specs(CliStack);
        QCOMPARE(theirs.size(), 2);
        // One after the other: both publish the same ports.
        removeStack(CliStack);

        const Run plan = pilothouse(deployArgs(ConsoleStack) + QStringList{QStringLiteral("--dry-run")});
        QVERIFY2(plan.exitCode == 0, qPrintable(why(plan)));
        QCOMPARE(plan.err.count("\n  create "), 6);
        QVERIFY2(specs(ConsoleStack).isEmpty(), "a dry run created services");

        const Run deploy = pilothouse(deployArgs(ConsoleStack));
        QVERIFY2(deploy.exitCode == 0, qPrintable(why(deploy)));
        const QHash<QString, QJsonObject> ours = specs(ConsoleStack);
        QCOMPARE(ours.size(), 2);
        for (const QString &key : theirs.keys()) {
            const QString d = firstDifference(normalized(theirs.value(key).value(QStringLiteral("Spec")), CliStack),
                                              normalized(ours.value(key).value(QStringLiteral("Spec")), ConsoleStack));
            QVERIFY2(d.isEmpty(), qPrintable(key + QStringLiteral(": ") + d));
        }
        // The tasks run.
        const Run ps = docker({QStringLiteral("service"), QStringLiteral("ls"), QStringLiteral("--filter"),
                               QStringLiteral("label=com.docker.stack.namespace=") + ConsoleStack,
                               QStringLiteral("--format"), QStringLiteral("{{.Name}} {{.Replicas}}")});
        QVERIFY2(ps.out.contains(QByteArray(ConsoleStack.toUtf8() + "_web 2/2")), ps.out.constData());
    }

    void secondRunChangesNothing()
    {
        const QHash<QString, QJsonObject> before = specs(ConsoleStack);
        const Run again = pilothouse(deployArgs(ConsoleStack) + QStringList{QStringLiteral("--json")});
        QVERIFY2(again.exitCode == 0, qPrintable(why(again)));
        QVERIFY2(again.err.contains("nothing changed"), again.err.constData());
        const QJsonObject report = QJsonDocument::fromJson(again.out).object();
        QVERIFY(report.value(QStringLiteral("changes_nothing")).toBool());
        const QHash<QString, QJsonObject> after = specs(ConsoleStack);
        for (const QString &key : before.keys())
            QCOMPARE(after.value(key).value(QStringLiteral("Version")).toObject().value(QStringLiteral("Index")).toInteger(),
                     before.value(key).value(QStringLiteral("Version")).toObject().value(QStringLiteral("Index")).toInteger());
    }

    void aChangeIsPlannedAndAppliedToItsServiceOnly()
    {
        const QHash<QString, QString> changed{{QStringLiteral("SAMPLE_FROM_SHELL"), QStringLiteral("changed")}};
        const qint64 workerVersion = specs(ConsoleStack).value(QStringLiteral("worker"))
                                         .value(QStringLiteral("Version")).toObject().value(QStringLiteral("Index")).toInteger();
        const Run plan = pilothouse(deployArgs(ConsoleStack) + QStringList{QStringLiteral("--dry-run")}, changed);
        QVERIFY2(plan.exitCode == 0, qPrintable(why(plan)));
        QVERIFY2(plan.err.contains(QByteArray("update    service " + ConsoleStack.toUtf8() + "_web")), plan.err.constData());
        QVERIFY2(plan.err.contains("FROM_SHELL=changed"), plan.err.constData());
        QVERIFY2(plan.err.contains(QByteArray("unchanged service " + ConsoleStack.toUtf8() + "_worker")), plan.err.constData());

        const Run apply = pilothouse(deployArgs(ConsoleStack), changed);
        QVERIFY2(apply.exitCode == 0, qPrintable(why(apply)));
        const QHash<QString, QJsonObject> now = specs(ConsoleStack);
        const QJsonArray env = now.value(QStringLiteral("web")).value(QStringLiteral("Spec")).toObject()
                                   .value(QStringLiteral("TaskTemplate")).toObject().value(QStringLiteral("ContainerSpec"))
                                   .toObject().value(QStringLiteral("Env")).toArray();
        QVERIFY(env.contains(QStringLiteral("FROM_SHELL=changed")));
        QCOMPARE(now.value(QStringLiteral("worker")).value(QStringLiteral("Version")).toObject().value(QStringLiteral("Index")).toInteger(),
                 workerVersion);
    }

    void aFailingUpdateIsRolledBack()
    {
        const QJsonObject before = specs(ConsoleStack).value(QStringLiteral("web")).value(QStringLiteral("Spec")).toObject();
        const Run bad = pilothouse(deployArgs(ConsoleStack),
                                   {{QStringLiteral("SAMPLE_IMAGE"), QStringLiteral("pilothouse/app:no-such-tag")},
                                    {QStringLiteral("SAMPLE_FROM_SHELL"), QStringLiteral("changed")}});
        QCOMPARE(bad.exitCode, 1);
        QVERIFY2(bad.err.contains("web"), bad.err.constData());
        const QJsonObject after = specs(ConsoleStack).value(QStringLiteral("web")).value(QStringLiteral("Spec")).toObject();
        QCOMPARE(after.value(QStringLiteral("TaskTemplate")).toObject().value(QStringLiteral("ContainerSpec")).toObject()
                     .value(QStringLiteral("Image")).toString(),
                 before.value(QStringLiteral("TaskTemplate")).toObject().value(QStringLiteral("ContainerSpec")).toObject()
                     .value(QStringLiteral("Image")).toString());
        // Back to running on the old image.
        QTRY_VERIFY_WITH_TIMEOUT(docker({QStringLiteral("service"), QStringLiteral("ls"), QStringLiteral("--filter"),
                                         QStringLiteral("name=") + ConsoleStack + QStringLiteral("_web"),
                                         QStringLiteral("--format"), QStringLiteral("{{.Replicas}}")})
                                     .out.startsWith("2/2"),
                                 60000);
    }

    void badInputChangesNothing()
    {
        const QHash<QString, QJsonObject> before = specs(ConsoleStack);
        QTemporaryDir dir;
        const QString broken = dir.filePath(QStringLiteral("broken.yml"));
        QFile f(broken);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("version: \"3.8\"\nservices:\n  web:\n    image: x\n    ports: [\"80:http\"]\n");
        f.close();
        QStringList args = deployArgs(ConsoleStack);
        args[3] = broken;
        const Run r = pilothouse(args);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QByteArray(broken.toUtf8() + ":5:13:")), r.err.constData());
        // A config of the stack that exists with other content cannot be changed:
        // the plan says so and nothing is touched.
        for (const QString &name : {QStringLiteral("sample-stack.yml"), QStringLiteral("sample-token.txt")})
            QVERIFY(QFile::copy(SampleDir + u'/' + name, dir.filePath(name)));
        QFile conf(dir.filePath(QStringLiteral("sample.conf")));
        QVERIFY(conf.open(QIODevice::WriteOnly));
        conf.write("greeting = changed\n");
        conf.close();
        args[3] = dir.filePath(QStringLiteral("sample-stack.yml"));
        const Run conflict = pilothouse(args);
        QCOMPARE(conflict.exitCode, 2);
        QVERIFY2(conflict.err.contains(QByteArray("conflict  config  " + ConsoleStack.toUtf8() + "_sample_conf")), conflict.err.constData());
        QVERIFY2(conflict.err.contains("nothing was changed"), conflict.err.constData());
        const QHash<QString, QJsonObject> after = specs(ConsoleStack);
        for (const QString &key : before.keys())
            QCOMPARE(after.value(key).value(QStringLiteral("Version")).toObject().value(QStringLiteral("Index")).toInteger(),
                     before.value(key).value(QStringLiteral("Version")).toObject().value(QStringLiteral("Index")).toInteger());
    }

    void auditTrailHasTheRequestsAndNoSecret()
    {
        QDir audit(m_home.filePath(QStringLiteral("data/Pilothouse/audit")));
        const QStringList files = audit.entryList({QStringLiteral("*.jsonl")}, QDir::Files);
        QVERIFY2(!files.isEmpty(), qPrintable(audit.path()));
        QFile f(audit.filePath(files.first()));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray trail = f.readAll();
        QVERIFY(trail.contains("/services/create"));
        QVERIFY(trail.contains(QByteArray("deploy stack " + ConsoleStack.toUtf8())));
        QFile token(SampleDir + QStringLiteral("/sample-token.txt"));
        QVERIFY(token.open(QIODevice::ReadOnly));
        const QByteArray secret = token.readAll().trimmed();
        QVERIFY2(!trail.contains(secret), "the secret's content is in the audit trail");
        QVERIFY2(!trail.contains(secret.toBase64()), "the secret's base64 is in the audit trail");
        QVERIFY2(!trail.contains(QByteArray(QByteArray(secret + '\n').toBase64())), "the secret's base64 is in the audit trail");
    }

    void cleanupTestCase()
    {
        removeStack(ConsoleStack);
        removeStack(CliStack);
    }
};

QTEST_GUILESS_MAIN(TestDeployLab)
#include "tst_deploy_lab.moc"
