// The stack file reader converts a Compose file exactly as `docker stack
// deploy` does. Checked against what the real docker CLI sent and what the
// real engine holds (tests/fixtures/deploy/README.md says how each was
// recorded), and against malformed files that must be refused with their place.

#include "app/deploy/stackfile.h"
#include "tests/testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace Pilothouse;

namespace {

const QString FixtureDir = QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/deploy/");
const QString LabImage = QStringLiteral("lab-1ef91541dd9842ef");
// spec-pilothouse_haproxy.json was captured again after its store volume was added.
const QString LabImageHaproxy = QStringLiteral("lab-9207cb554262eda0");
// pgpool's spec was captured again after its restart delay changed (fixtures/deploy/README.md).
const QString LabImagePgpool = QStringLiteral("lab-ac0640a878bcf2d9");
// The pg-N specs were captured again after repmgrd's detection settings changed.
const QString LabImagePostgres = QStringLiteral("lab-a4f9f01053eb4ed0");

// The first place where `a` and `b` differ ("" when equal), e.g.
// "TaskTemplate.ContainerSpec.Env[2]: \"A=1\" vs \"A=2\"".
QString firstDifference(const QJsonValue &a, const QJsonValue &b, const QString &at = {})
{
    auto show = [](const QJsonValue &v) {
        if (v.isObject())
            return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
        if (v.isArray())
            return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
        if (v.isUndefined())
            return QStringLiteral("(missing)");
        return QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact));
    };
    if (a.isObject() && b.isObject()) {
        const QJsonObject x = a.toObject(), y = b.toObject();
        QStringList keys = x.keys() + y.keys();
        keys.removeDuplicates();
        keys.sort();
        for (const QString &k : std::as_const(keys)) {
            const QString d = firstDifference(x.value(k), y.value(k),
                                              at.isEmpty() ? k : at + QLatin1Char('.') + k);
            if (!d.isEmpty())
                return d;
        }
        return {};
    }
    if (a.isArray() && b.isArray()) {
        const QJsonArray x = a.toArray(), y = b.toArray();
        for (qsizetype i = 0; i < std::max(x.size(), y.size()); ++i) {
            const QString d = firstDifference(x.at(i), y.at(i), at + QStringLiteral("[%1]").arg(i));
            if (!d.isEmpty())
                return d;
        }
        return {};
    }
    // JSON numbers: the CLI's float32 0.5 and our double 0.5 are the same value.
    if (a.isDouble() && b.isDouble() && a.toDouble() == b.toDouble())
        return {};
    if (a == b)
        return {};
    return QStringLiteral("%1: %2 vs %3").arg(at, show(a), show(b));
}

// Where `ours` has a value that `theirs` lacks or holds differently: the
// engine adds defaults to what it stores, so a stored spec is a superset.
QString notContained(const QJsonValue &ours, const QJsonValue &theirs, const QString &at = {})
{
    if (ours.isObject() && theirs.isObject()) {
        const QJsonObject x = ours.toObject(), y = theirs.toObject();
        for (auto it = x.begin(); it != x.end(); ++it) {
            const QString d = notContained(it.value(), y.value(it.key()),
                                           at.isEmpty() ? it.key() : at + QLatin1Char('.') + it.key());
            if (!d.isEmpty())
                return d;
        }
        return {};
    }
    return firstDifference(ours, theirs, at);
}

QJsonObject withoutIds(QJsonObject spec)
{
    QJsonObject task = spec.value(QStringLiteral("TaskTemplate")).toObject();
    QJsonObject container = task.value(QStringLiteral("ContainerSpec")).toObject();
    for (const QString &key : {QStringLiteral("Secrets"), QStringLiteral("Configs")}) {
        QJsonArray refs = container.value(key).toArray();
        for (auto ref : refs) {
            QJsonObject o = ref.toObject();
            o.remove(QStringLiteral("SecretID"));
            o.remove(QStringLiteral("ConfigID"));
            ref = o;
        }
        if (!refs.isEmpty())
            container.insert(key, refs);
    }
    task.insert(QStringLiteral("ContainerSpec"), container);
    spec.insert(QStringLiteral("TaskTemplate"), task);
    return spec;
}

} // namespace

class TestStackFile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sampleMatchesWhatTheDockerCliSent()
    {
        const QJsonObject capture =
            QJsonDocument::fromJson(TestSupport::fixture("deploy", "stack-deploy-requests.json")).object();
        const Result<StackPlan> plan = StackFile::read(
            FixtureDir + QStringLiteral("sample-stack.yml"), QStringLiteral("phsample"),
            {{QStringLiteral("SAMPLE_IMAGE"), QStringLiteral("pilothouse/app:") + LabImage}});
        QVERIFY2(plan.ok(), qPrintable(plan.ok() ? QString() : plan.error().toString()));

        int services = 0, networks = 0, files = 0;
        QStringList networkOrder;
        for (const QJsonValue &v : capture.value(QStringLiteral("requests")).toArray()) {
            const QJsonObject request = v.toObject();
            const QString path = request.value(QStringLiteral("path")).toString();
            QJsonObject body = request.value(QStringLiteral("body")).toObject();
            if (path.endsWith(QLatin1String("/services/create"))) {
                const QString name = body.value(QStringLiteral("Name")).toString();
                const StackService *s = plan.value().service(name.section(QLatin1Char('_'), 1));
                QVERIFY2(s, qPrintable(name));
                QCOMPARE(s->name, name);
                const QString d = firstDifference(s->spec, withoutIds(body));
                QVERIFY2(d.isEmpty(), qPrintable(name + QStringLiteral(": ") + d));
                ++services;
            } else if (path.endsWith(QLatin1String("/networks/create"))) {
                networkOrder.append(body.value(QStringLiteral("Name")).toString());
                const auto &ns = plan.value().networks;
                const auto it = std::find_if(ns.cbegin(), ns.cend(), [&](const StackObject &n) {
                    return n.name == body.value(QStringLiteral("Name")).toString();
                });
                QVERIFY(it != ns.cend());
                const QString d = firstDifference(it->body, body);
                QVERIFY2(d.isEmpty(), qPrintable(it->name + QStringLiteral(": ") + d));
                ++networks;
            } else if (path.endsWith(QLatin1String("/secrets/create")) ||
                       path.endsWith(QLatin1String("/configs/create"))) {
                const bool secret = path.endsWith(QLatin1String("/secrets/create"));
                const auto &os = secret ? plan.value().secrets : plan.value().configs;
                QCOMPARE(os.size(), 1);
                const QByteArray data = QByteArray::fromBase64(
                    body.take(QStringLiteral("Data")).toString().toLatin1());
                QFile source(os.first().sourceFile);
                QVERIFY2(source.open(QIODevice::ReadOnly), qPrintable(os.first().sourceFile));
                QCOMPARE(source.readAll(), data);
                const QString d = firstDifference(os.first().body, body);
                QVERIFY2(d.isEmpty(), qPrintable(os.first().name + QStringLiteral(": ") + d));
                ++files;
            }
        }
        QCOMPARE(services, 2);
        QCOMPARE(networks, 2);
        QCOMPARE(files, 2);
        QCOMPARE(plan.value().services.size(), 2);
        // Created in the CLI's order.
        QStringList ours;
        for (const StackObject &n : plan.value().networks)
            ours.append(n.name);
        QCOMPARE(ours, networkOrder);
    }

    // The lab's own stack, deployed by `docker stack deploy` from this file:
    // everything the reader produces is in the engine's stored spec.
    void labStackIsWhatTheEngineHolds()
    {
        const QHash<QString, QString> env{
            {QStringLiteral("PG_IMAGE"),
             QStringLiteral("pilothouse/postgres-repmgr:") + LabImagePostgres},
            {QStringLiteral("PGPOOL_IMAGE"), QStringLiteral("pilothouse/pgpool:") + LabImagePgpool},
            {QStringLiteral("ETCD_IMAGE"), QStringLiteral("pilothouse/etcd:") + LabImage},
            {QStringLiteral("HAPROXY_IMAGE"),
             QStringLiteral("pilothouse/haproxy:") + LabImageHaproxy},
            {QStringLiteral("APP_IMAGE"), QStringLiteral("pilothouse/app:") + LabImage},
            {QStringLiteral("APP_CONTENT_SOURCE"), QStringLiteral("/mnt/glusterfs/app")},
        };
        const Result<StackPlan> plan =
            StackFile::read(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/pilothouse-stack.yml"),
                            QStringLiteral("pilothouse"), env);
        QVERIFY2(plan.ok(), qPrintable(plan.ok() ? QString() : plan.error().toString()));
        QCOMPARE(plan.value().services.size(), 9);
        QCOMPARE(plan.value().networks.size(), 1);
        QCOMPARE(plan.value().networks.first().name, QStringLiteral("postgres-network"));
        QCOMPARE(plan.value().secrets.size(), 6);
        for (const StackObject &s : plan.value().secrets)
            QVERIFY2(s.external && s.sourceFile.isEmpty(), qPrintable(s.key));

        for (const StackService &s : plan.value().services) {
            const QByteArray name = "spec-" + s.name.toUtf8() + ".json";
            const QJsonObject stored =
                QJsonDocument::fromJson(TestSupport::fixture("deploy", name.constData())).object();
            QJsonObject ours = s.spec;
            // The engine stores networks by ID; the names are checked above.
            QJsonObject task = ours.value(QStringLiteral("TaskTemplate")).toObject();
            QJsonArray nets = task.value(QStringLiteral("Networks")).toArray();
            QCOMPARE(nets.size(), 1);
            QCOMPARE(nets.first().toObject().value(QStringLiteral("Target")).toString(),
                     QStringLiteral("postgres-network"));
            task.remove(QStringLiteral("Networks"));
            // NoNewPrivileges false is the default, and engine 20.10 stores it or not depending on
            // how the service was last written (the haproxy capture of 2026-11-27 lacks it).
            QJsonObject container = task.value(QStringLiteral("ContainerSpec")).toObject();
            QJsonObject privileges = container.value(QStringLiteral("Privileges")).toObject();
            const QJsonObject storedPrivileges = stored.value(QStringLiteral("TaskTemplate"))
                                                     .toObject()
                                                     .value(QStringLiteral("ContainerSpec"))
                                                     .toObject()
                                                     .value(QStringLiteral("Privileges"))
                                                     .toObject();
            if (privileges.value(QStringLiteral("NoNewPrivileges")) == QJsonValue(false) &&
                !storedPrivileges.contains(QStringLiteral("NoNewPrivileges"))) {
                privileges.remove(QStringLiteral("NoNewPrivileges"));
                container.insert(QStringLiteral("Privileges"), privileges);
                task.insert(QStringLiteral("ContainerSpec"), container);
            }
            ours.insert(QStringLiteral("TaskTemplate"), task);
            const QString d = notContained(ours, withoutIds(stored));
            QVERIFY2(d.isEmpty(), qPrintable(s.name + QStringLiteral(": ") + d));
        }
    }

    void malformedFilesNameTheirPlace_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<QString>("where");
        QTest::addColumn<QString>("says");
        const QByteArray head = "version: \"3.8\"\nservices:\n  web:\n    image: x\n";
        QTest::newRow("unknown key") << head + "    restart: always\n" << ":5:5:"
                                     << "services.web.restart is not a key";
        QTest::newRow("bad duration") << head + "    stop_grace_period: 10 seconds\n" << ":5:24:"
                                      << "must be a duration";
        QTest::newRow("bad port") << head + "    ports: [\"80:99999\"]\n" << ":5:13:"
                                  << "is not a port";
        QTest::newRow("host address in port") << head + "    ports: [\"127.0.0.1:80:80\"]\n" << ":5:13:"
                                              << "binds a host address";
        QTest::newRow("undeclared network") << head + "    networks: [nowhere]\n" << ":5:16:"
                                            << "network 'nowhere' is not declared";
        QTest::newRow("undeclared secret") << head + "    secrets: [token]\n" << ":5:15:"
                                           << "'token' is not declared under secrets:";
        QTest::newRow("wrong type") << head + "    environment: 12\n" << ":5:18:"
                                    << "must be a mapping";
        QTest::newRow("replicas not a number") << head + "    deploy: {replicas: many}\n" << ":5:24:"
                                               << "must be a whole number";
        QTest::newRow("global with replicas")
            << head + "    deploy: {mode: global, replicas: 2}\n" << ":5:13:" << "takes no replicas";
        QTest::newRow("duplicate service") << head + "  web:\n    image: y\n" << ":5:3:"
                                           << "has the key 'web' twice";
        QTest::newRow("required variable") << head + "    hostname: ${NODE:?set NODE first}\n" << ":5:15:"
                                           << "the variable NODE must be set: set NODE first";
        QTest::newRow("no image") << QByteArray("services:\n  web:\n    hostname: a\n") << ":2:3:"
                                  << "services.web has no image";
        QTest::newRow("not yaml") << QByteArray("services: [\n  - a: b\n  c\n") << ":"
                                  << "not valid YAML";
        QTest::newRow("binary junk") << QByteArray("\x7f" "ELF\x02\x01\x01\0\0\0", 10) << "stack.yml"
                                     << "not a text file";
        QTest::newRow("a list") << QByteArray("- a\n- b\n") << ":1:1:" << "a mapping with services";
        QTest::newRow("version 2") << QByteArray("version: \"2.4\"\nservices: {}\n") << ":1:10:"
                                   << "version 3.x";
        QTest::newRow("bad size") << head + "    deploy: {resources: {limits: {memory: lots}}}\n"
                                  << ":5:43:" << "must be a size";
    }

    void malformedFilesNameTheirPlace()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(QString, where);
        QFETCH(QString, says);
        const Result<StackPlan> plan =
            StackFile::readBytes(yaml, QStringLiteral("/srv/stack.yml"), QStringLiteral("s"), {});
        QVERIFY(!plan.ok());
        const QString text = plan.error().toString();
        QVERIFY2(text.startsWith(QLatin1String("/srv/stack.yml")), qPrintable(text));
        QVERIFY2(text.contains(where), qPrintable(text));
        QVERIFY2(text.contains(says), qPrintable(text));
    }

    void interpolation()
    {
        const QByteArray yaml = "services:\n  web:\n    image: ${IMG:-debian}:${TAG-12}\n"
                                "    environment:\n      A: $$HOME\n      B: ${EMPTY:-fallback}\n"
                                "      C: ${EMPTY-kept}\n      D: $NAME/x\n      FROM_ENV:\n";
        const QHash<QString, QString> env{{QStringLiteral("TAG"), QString()},
                                          {QStringLiteral("EMPTY"), QString()},
                                          {QStringLiteral("NAME"), QStringLiteral("n")},
                                          {QStringLiteral("FROM_ENV"), QStringLiteral("v")}};
        const Result<StackPlan> plan = StackFile::readBytes(yaml, QStringLiteral("/s.yml"), QStringLiteral("s"), env);
        QVERIFY2(plan.ok(), qPrintable(plan.ok() ? QString() : plan.error().toString()));
        const QJsonObject c = plan.value().services.first().spec.value(QStringLiteral("TaskTemplate"))
                                  .toObject().value(QStringLiteral("ContainerSpec")).toObject();
        QCOMPARE(c.value(QStringLiteral("Image")).toString(), QStringLiteral("debian:"));
        QCOMPARE(c.value(QStringLiteral("Env")).toArray().toVariantList(),
                 (QVariantList{QStringLiteral("A=$HOME"), QStringLiteral("B=fallback"), QStringLiteral("C="),
                               QStringLiteral("D=n/x"), QStringLiteral("FROM_ENV=v")}));
        // A service without networks joins the stack's default network, which is created.
        QCOMPARE(plan.value().networks.size(), 1);
        QCOMPARE(plan.value().networks.first().name, QStringLiteral("s_default"));
    }

    void unitsAndWords()
    {
        QCOMPARE(StackFile::parseDuration(QStringLiteral("1m30s")), qint64(90) * 1000000000);
        QCOMPARE(StackFile::parseDuration(QStringLiteral("250ms")), qint64(250) * 1000000);
        QCOMPARE(StackFile::parseDuration(QStringLiteral("2.5s")), qint64(2500) * 1000000);
        QCOMPARE(StackFile::parseDuration(QStringLiteral("10")), qint64(-1));
        QCOMPARE(StackFile::parseDuration(QStringLiteral("5s garbage")), qint64(-1));
        QCOMPARE(StackFile::parseBytes(QStringLiteral("64M")), qint64(64) << 20);
        QCOMPARE(StackFile::parseBytes(QStringLiteral("1g")), qint64(1) << 30);
        QCOMPARE(StackFile::parseBytes(QStringLiteral("128mb")), qint64(128) << 20);
        QCOMPARE(StackFile::parseBytes(QStringLiteral("1024")), qint64(1024));
        QCOMPARE(StackFile::parseBytes(QStringLiteral("-1M")), qint64(-1));
        QStringList w;
        QVERIFY(StackFile::splitWords(QStringLiteral("sh -c 'echo \"a b\"' x\\ y \"q\\\"\""), &w));
        QCOMPARE(w, (QStringList{QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("echo \"a b\""),
                                 QStringLiteral("x y"), QStringLiteral("q\"")}));
        QVERIFY(!StackFile::splitWords(QStringLiteral("echo 'open"), &w));
    }
};

QTEST_GUILESS_MAIN(TestStackFile)
#include "tst_stackfile.moc"
