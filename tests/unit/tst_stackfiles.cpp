// The stack files in deploy-stacks/ obey the rules of the foundation issue
// and of ../shared/STACK-NOTES.md. Each rule is checked on the real files.

#include <QFile>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <yaml-cpp/yaml.h>

namespace {

const QString StackDir = QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/");

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

// node[path...] without yaml-cpp's throwing "zombie" nodes: an undefined
// node when any step is missing.
YAML::Node at(const YAML::Node &node, std::initializer_list<const char *> path)
{
    YAML::Node cur;
    cur.reset(node); // Node::operator= would assign into the node, not rebind
    for (const char *key : path) {
        const YAML::Node &constCur = cur; // const [] never inserts
        if (!constCur.IsMap() || !constCur[key])
            return YAML::Node(YAML::NodeType::Undefined);
        cur.reset(constCur[key]);
    }
    return cur;
}

// Throws nothing: a missing or broken file fails the test with its reason.
YAML::Node loadStack(const QString &name)
{
    try {
        return YAML::LoadFile(QString(StackDir + name).toStdString());
    } catch (const YAML::Exception &e) {
        qWarning("%s: %s", qPrintable(name), e.what());
        return YAML::Node(YAML::NodeType::Undefined);
    }
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return f.readAll();
}

// Environment as a map, whether the file uses the list or the map form.
QMap<QString, QString> environment(const YAML::Node &service)
{
    QMap<QString, QString> env;
    const YAML::Node e = at(service, {"environment"});
    if (e.IsMap()) {
        for (auto it = e.begin(); it != e.end(); ++it)
            env.insert(qs(it->first.Scalar()),
                       it->second.IsNull() ? QString() : qs(it->second.Scalar()));
    } else if (e.IsSequence()) {
        for (const YAML::Node &item : e) {
            const QString line = qs(item.Scalar());
            const qsizetype eq = line.indexOf(u'=');
            env.insert(line.left(eq), eq < 0 ? QString() : line.mid(eq + 1));
        }
    }
    return env;
}

QStringList constraints(const YAML::Node &service)
{
    QStringList out;
    const YAML::Node c = at(service, {"deploy", "placement", "constraints"});
    if (c.IsSequence()) {
        for (const YAML::Node &item : c)
            out.append(qs(item.Scalar()).simplified());
    }
    return out;
}

QSet<QString> serviceSecrets(const YAML::Node &service)
{
    QSet<QString> out;
    for (const YAML::Node &s : at(service, {"secrets"}))
        out.insert(s.IsMap() ? qs(s["source"].Scalar()) : qs(s.Scalar()));
    return out;
}

// Labels as "key=value", whether the file uses the list or the map form.
QStringList labelList(const YAML::Node &labels)
{
    QStringList all;
    if (labels.IsSequence()) {
        for (const YAML::Node &l : labels)
            all.append(qs(l.Scalar()));
    } else if (labels.IsMap()) {
        for (auto l = labels.begin(); l != labels.end(); ++l)
            all.append(qs(l->first.Scalar()) + u'=' + qs(l->second.Scalar()));
    }
    return all;
}

bool isSecretName(const QString &key)
{
    // etcd's cluster token only tells clusters apart; it guards nothing.
    if (key == u"ETCD_INITIAL_CLUSTER_TOKEN")
        return false;
    static const QRegularExpression re(QStringLiteral("PASSWORD|PASSWD|TOKEN|SECRET|_KEY$"));
    return re.match(key).hasMatch();
}

} // namespace

class TestStackFiles final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_stack = loadStack(QStringLiteral("pilothouse-stack.yml"));
        QVERIFY2(m_stack.IsMap(),
                 "deploy-stacks/pilothouse-stack.yml must be a readable YAML mapping");
    }

    void composeVersion()
    {
        const QString v = qs(m_stack["version"].Scalar());
        QVERIFY2(v.startsWith(u'3'), qPrintable(v));
        QVERIFY(m_stack["services"].IsMap());
    }

    void postgresPinnedWithLocalVolumes()
    {
        for (int n = 1; n <= 3; ++n) {
            const QString name = QStringLiteral("pg-%1").arg(n);
            const YAML::Node svc = m_stack["services"][name.toStdString()];
            QVERIFY2(svc.IsMap(), qPrintable(name));
            QVERIFY2(constraints(svc).contains(
                         QStringLiteral("node.labels.pilothouse.node == swarm-0%1").arg(n)),
                     qPrintable(constraints(svc).join(u';')));
            bool namedVolume = false;
            for (const YAML::Node &v : svc["volumes"]) {
                const QString spec =
                    v.IsMap() ? qs(v["source"].Scalar()) : qs(v.Scalar()).section(u':', 0, 0);
                if (!spec.startsWith(u'/') && !spec.startsWith(u'.')) {
                    namedVolume = true;
                    const YAML::Node decl = m_stack["volumes"][spec.toStdString()];
                    QVERIFY2(decl.IsDefined(),
                             qPrintable(spec + QStringLiteral(" is not declared")));
                    // A volume on GlusterFS would put PostgreSQL data on it (STACK-NOTES).
                    if (decl.IsMap() && decl["driver"])
                        QCOMPARE(qs(decl["driver"].Scalar()), QStringLiteral("local"));
                }
            }
            QVERIFY2(namedVolume, qPrintable(name + QStringLiteral(" has no named data volume")));
            const auto env = environment(svc);
            QVERIFY2(env.value(QStringLiteral("REPMGR_NODE_NAME"))
                         .endsWith(QStringLiteral("-%1").arg(n)),
                     qPrintable(env.value(QStringLiteral("REPMGR_NODE_NAME"))));
            QVERIFY(env.contains(QStringLiteral("REPMGR_PARTNER_NODES")));
            QVERIFY(env.contains(QStringLiteral("REPMGR_PRIMARY_HOST")));
            QVERIFY(env.contains(QStringLiteral("REPMGR_PASSWORD_FILE")));
            QVERIFY(env.contains(QStringLiteral("POSTGRESQL_PASSWORD_FILE")));
        }
    }

    void passwordsOnlyFromSecrets()
    {
        const YAML::Node services = m_stack["services"];
        QSet<QString> declared;
        for (auto it = m_stack["secrets"].begin(); it != m_stack["secrets"].end(); ++it) {
            declared.insert(qs(it->first.Scalar()));
            // Never a file in the repo, never a value: created by the deployer.
            QVERIFY2(it->second["external"].as<bool>(false),
                     qPrintable(qs(it->first.Scalar()) + QStringLiteral(" is not external")));
        }
        QVERIFY(!declared.isEmpty());
        for (auto it = services.begin(); it != services.end(); ++it) {
            const QString service = qs(it->first.Scalar());
            const auto env = environment(it->second);
            const QSet<QString> mounted = serviceSecrets(it->second);
            for (auto e = env.cbegin(); e != env.cend(); ++e) {
                if (!isSecretName(e.key()))
                    continue;
                QVERIFY2(
                    e.key().endsWith(QStringLiteral("_FILE")),
                    qPrintable(service + QStringLiteral(": plain secret variable ") + e.key()));
                QVERIFY2(e.value().startsWith(QStringLiteral("/run/secrets/")),
                         qPrintable(service + u' ' + e.key() + u'=' + e.value()));
                const QString secret = e.value().mid(int(qstrlen("/run/secrets/")));
                QVERIFY2(mounted.contains(secret),
                         qPrintable(service + QStringLiteral(" reads secret ") + secret +
                                    QStringLiteral(" it does not mount")));
            }
            for (const QString &s : mounted)
                QVERIFY2(declared.contains(s),
                         qPrintable(service + QStringLiteral(": undeclared secret ") + s));
        }
        // And no password-looking literal anywhere in the file.
        const QByteArray text = readFile(StackDir + QStringLiteral("pilothouse-stack.yml"));
        QVERIFY(!QString::fromUtf8(text).contains(
            QRegularExpression(QStringLiteral("PASSWORD\\s*[:=]\\s*[^/\\s$]"))));
    }

    void dnsrrAndHostPortsEverywhere()
    {
        // No IPVS in the lab kernel: no VIP, no routing mesh (LAB-NOTES trap 1).
        const YAML::Node services = m_stack["services"];
        for (auto it = services.begin(); it != services.end(); ++it) {
            const QString service = qs(it->first.Scalar());
            QCOMPARE(qs(it->second["deploy"]["endpoint_mode"].Scalar()), QStringLiteral("dnsrr"));
            for (const YAML::Node &p : it->second["ports"]) {
                QVERIFY2(
                    p.IsMap(),
                    qPrintable(service + QStringLiteral(": short port syntax means ingress mode")));
                QCOMPARE(qs(p["mode"].Scalar()), QStringLiteral("host"));
            }
            // Image names are variables so production can use its own images.
            const QString image = qs(it->second["image"].Scalar());
            QVERIFY2(image.startsWith(QStringLiteral("${")), qPrintable(service + u' ' + image));
            QVERIFY2(!image.contains(QStringLiteral("bitnami/")), qPrintable(image));
        }
    }

    void pgpoolTwoReachableTasks()
    {
        const YAML::Node pgpool = m_stack["services"]["pgpool"];
        QVERIFY(pgpool.IsMap());
        QCOMPARE(pgpool["deploy"]["replicas"].as<int>(), 2);
        // One task per host so each is reachable on its own at host:port.
        QCOMPARE(pgpool["deploy"]["placement"]["max_replicas_per_node"].as<int>(), 1);
        const auto env = environment(pgpool);
        const QStringList backends = env.value(QStringLiteral("PGPOOL_BACKEND_NODES")).split(u',');
        QCOMPARE(backends.size(), 3);
        const int period =
            env.value(QStringLiteral("PGPOOL_HEALTH_CHECK_PERIOD"), QStringLiteral("1")).toInt();
        QVERIFY2(period >= 1 && period <= 2, "health checks every 1-2 s");
        // The settings the lab proved necessary live in the entrypoint.
        const QString script = QString::fromUtf8(
            readFile(StackDir + QStringLiteral("images/rootfs/usr/local/bin/ph-pgpool")));
        for (const char *setting :
             {"detach_false_primary", "auto_failback", "sr_check_period", "health_check_period",
              "streaming_replication", "load_balance_mode"})
            QVERIFY2(script.contains(QLatin1String(setting)), setting);
    }

    void postgresEntrypointSettings()
    {
        const QString script = QString::fromUtf8(
            readFile(StackDir + QStringLiteral("images/rootfs/usr/local/bin/ph-postgres")));
        for (const char *setting :
             {"wal_log_hints", "use_replication_slots", "failover", "automatic",
              "reconnect_attempts", "reconnect_interval", "child_nodes_disconnect_command",
              "wal_sender_timeout", "force-rewind", "_FILE"})
            QVERIFY2(script.contains(QLatin1String(setting)), setting);
    }

    void etcdThreeMembersWithData()
    {
        for (int n = 1; n <= 3; ++n) {
            const YAML::Node svc =
                m_stack["services"][QStringLiteral("etcd%1").arg(n).toStdString()];
            QVERIFY(svc.IsMap());
            QVERIFY(svc["volumes"].IsSequence() && svc["volumes"].size() >= 1);
            QVERIFY(constraints(svc).contains(
                QStringLiteral("node.labels.pilothouse.node == swarm-0%1").arg(n)));
        }
    }

    void appAndProxy()
    {
        const YAML::Node app = m_stack["services"]["app"];
        QCOMPARE(app["deploy"]["replicas"].as<int>(), 6);
        const YAML::Node haproxy = m_stack["services"]["haproxy"];
        QVERIFY(haproxy.IsMap());
        QSet<int> published;
        for (const YAML::Node &p : haproxy["ports"])
            published.insert(p["published"].as<int>());
        QVERIFY(published.contains(443));
        QVERIFY(published.contains(80));
    }

    // Traefik v3 in Swarm mode (STACK-NOTES: the seed's v2 flags and labels fail).
    void traefikV3Rules()
    {
        const YAML::Node doc = loadStack(QStringLiteral("pilothouse-traefik.yml"));
        QVERIFY(doc.IsMap());
        // The flags Traefik is started with, from every service's command.
        QStringList flags;
        for (auto it = doc["services"].begin(); it != doc["services"].end(); ++it) {
            const YAML::Node command = at(it->second, {"command"});
            for (std::size_t i = 0; command.IsSequence() && i < command.size(); ++i)
                flags.append(qs(command[i].Scalar()));
        }
        const QString args = flags.join(u'\n');
        QVERIFY2(!args.contains(QStringLiteral("swarmMode")),
                 "--providers.docker.swarmMode makes Traefik v3 refuse to start");
        QVERIFY(args.contains(QStringLiteral("--providers.swarm")));
        QVERIFY(args.contains(QStringLiteral("dnschallenge.provider=cloudflare")));
        QVERIFY(args.contains(QStringLiteral("redirections.entrypoint.to=websecure")));
        const YAML::Node services = doc["services"];
        int routed = 0;
        for (auto it = services.begin(); it != services.end(); ++it) {
            const QString service = qs(it->first.Scalar());
            const QStringList serviceLevel = labelList(at(it->second, {"labels"}));
            QVERIFY2(
                serviceLevel.filter(QRegularExpression(QStringLiteral("^traefik\\."))).isEmpty(),
                qPrintable(service +
                           QStringLiteral(": traefik labels must be under deploy.labels")));
            const QStringList all = labelList(at(it->second, {"deploy", "labels"}));
            if (!all.filter(QStringLiteral("traefik.enable=true")).isEmpty()) {
                ++routed;
                QVERIFY2(
                    !all.filter(QRegularExpression(
                                    QStringLiteral("^traefik\\.http\\.services\\.[^.]+\\."
                                                   "loadbalancer\\.server\\.port=\\d+$")))
                         .isEmpty(),
                    qPrintable(service + QStringLiteral(": Swarm needs loadbalancer.server.port")));
            }
            const auto env = environment(it->second);
            QVERIFY2(!env.contains(QStringLiteral("CF_DNS_API_TOKEN")),
                     "the Cloudflare token comes from a secret");
        }
        QVERIFY(routed >= 1);
        QVERIFY(readFile(StackDir + QStringLiteral("pilothouse-traefik.yml"))
                    .contains("CF_DNS_API_TOKEN_FILE"));
    }

    void ghostStatesItsLimits()
    {
        const QByteArray text = readFile(StackDir + QStringLiteral("ghost.yml"));
        QVERIFY(text.contains("MySQL 8"));
        QVERIFY(text.toLower().contains("one instance") ||
                text.toLower().contains("single instance"));
        QVERIFY(loadStack(QStringLiteral("ghost.yml"))["services"].IsMap());
    }

private:
    YAML::Node m_stack;
};

QTEST_GUILESS_MAIN(TestStackFiles)
#include "tst_stackfiles.moc"
