#include "app/inventory/inventoryloader.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>

#include <yaml-cpp/yaml.h>

namespace Pilothouse::InventoryLoader {
namespace {

// Thrown inside the parser only; loadBytes() turns it into an Error.
struct LoadError
{
    YAML::Mark mark;
    QString message;
};

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

[[noreturn]] void fail(const YAML::Node &node, const QString &message)
{
    throw LoadError{node.Mark(), message};
}

QString kindName(const YAML::Node &node)
{
    switch (node.Type()) {
    case YAML::NodeType::Null:
        return QStringLiteral("nothing");
    case YAML::NodeType::Scalar:
        return QStringLiteral("a scalar '%1'").arg(qs(node.Scalar()));
    case YAML::NodeType::Sequence:
        return QStringLiteral("a list");
    case YAML::NodeType::Map:
        return QStringLiteral("a mapping");
    case YAML::NodeType::Undefined:
        break;
    }
    return QStringLiteral("an undefined value");
}

void expectMap(const YAML::Node &node, const QString &what)
{
    if (!node.IsMap())
        fail(node, QStringLiteral("%1 must be a mapping, found %2").arg(what, kindName(node)));
}

// Iterates a mapping, refusing duplicate keys (YAML forbids them, yaml-cpp
// keeps both) and non-scalar keys.
template<typename F> void forEachEntry(const YAML::Node &map, const QString &what, F &&f)
{
    expectMap(map, what);
    QSet<QString> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
        const YAML::Node key = it->first;
        if (!key.IsScalar())
            fail(key, QStringLiteral("a key in %1 must be a plain name, found %2")
                          .arg(what, kindName(key)));
        const QString name = qs(key.Scalar());
        if (seen.contains(name))
            fail(key, QStringLiteral("duplicate key '%1' in %2").arg(name, what));
        seen.insert(name);
        f(name, key, it->second);
    }
}

QString scalar(const YAML::Node &node, const QString &what)
{
    if (!node.IsScalar())
        fail(node, QStringLiteral("%1 must be a text value, found %2").arg(what, kindName(node)));
    return qs(node.Scalar());
}

int integer(const YAML::Node &node, const QString &what, int min, int max)
{
    const QString text = scalar(node, what);
    bool ok = false;
    const int value = text.toInt(&ok);
    if (!ok || value < min || value > max)
        fail(node, QStringLiteral("%1 must be a whole number from %2 to %3, found '%4'")
                       .arg(what)
                       .arg(min)
                       .arg(max)
                       .arg(text));
    return value;
}

int port(const YAML::Node &node, const QString &what)
{
    return integer(node, what, 1, 65535);
}

QString absolutePath(const QString &raw, const QString &baseDir)
{
    QString path = raw;
    if (path == u'~' || path.startsWith(QLatin1String("~/")))
        path = QDir::homePath() + path.mid(1);
    if (path.isEmpty())
        return path;
    return QDir::cleanPath(QDir(baseDir).absoluteFilePath(path));
}

QMap<QString, QString> nameMap(const YAML::Node &node, const QString &what)
{
    QMap<QString, QString> out;
    forEachEntry(node, what, [&](const QString &key, const YAML::Node &, const YAML::Node &value) {
        out.insert(key, scalar(value, QStringLiteral("%1.%2").arg(what, key)));
    });
    return out;
}

// A YAML value as JSON (daemon.json): plain scalars that read as booleans or
// numbers become those, quoted ones stay text.
QJsonValue jsonOf(const YAML::Node &node, const QString &what)
{
    switch (node.Type()) {
    case YAML::NodeType::Scalar: {
        const QString text = qs(node.Scalar());
        if (node.Tag() == "!")
            return text;
        if (text == u"true" || text == u"false")
            return text == u"true";
        static const QRegularExpression number(QStringLiteral("^-?[0-9]+(\\.[0-9]+)?$"));
        if (number.match(text).hasMatch())
            return text.toDouble();
        return text;
    }
    case YAML::NodeType::Sequence: {
        QJsonArray array;
        for (std::size_t i = 0; i < node.size(); ++i)
            array.append(jsonOf(node[i], QStringLiteral("%1[%2]").arg(what).arg(i)));
        return array;
    }
    case YAML::NodeType::Map: {
        QJsonObject object;
        forEachEntry(node, what, [&](const QString &key, const YAML::Node &, const YAML::Node &v) {
            object.insert(key, jsonOf(v, what + u'.' + key));
        });
        return object;
    }
    case YAML::NodeType::Null:
        return QJsonValue::Null;
    case YAML::NodeType::Undefined:
        break;
    }
    fail(node, QStringLiteral("%1 has an undefined value").arg(what));
}

QStringList textList(const YAML::Node &node, const QString &what)
{
    if (!node.IsSequence())
        fail(node, QStringLiteral("%1 must be a list, found %2").arg(what, kindName(node)));
    QStringList out;
    for (std::size_t i = 0; i < node.size(); ++i)
        out.append(scalar(node[i], QStringLiteral("%1[%2]").arg(what).arg(i)));
    return out;
}

// Connection variables Ansible lets groups pass down to their hosts.
struct HostVars
{
    QString address;
    int port = 0;
    QString user;
    QString keyFile;
};

class Parser
{
public:
    Parser(QString path)
        : m_path(std::move(path))
        , m_dir(QFileInfo(m_path).absolutePath())
    {}

    Inventory parse(const YAML::Node &root)
    {
        if (!root.IsDefined() || root.IsNull())
            fail(root, QStringLiteral("the inventory is empty; expected a mapping with 'all:'"));
        expectMap(root, QStringLiteral("the inventory"));
        bool sawAll = false;
        forEachEntry(root, QStringLiteral("the inventory"),
                     [&](const QString &key, const YAML::Node &, const YAML::Node &value) {
                         if (key == u"pilothouse") {
                             readSettings(value);
                         } else {
                             // Ansible allows top-level groups besides `all`.
                             if (key == u"all")
                                 sawAll = true;
                             readGroup(key, value, 0, {});
                         }
                     });
        if (!sawAll && m_hosts.isEmpty())
            fail(root, QStringLiteral(
                           "no 'all:' group and no hosts; expected an Ansible YAML inventory"));
        if (m_hosts.isEmpty())
            fail(root, QStringLiteral("the inventory lists no hosts"));
        if (!m_sawSettings)
            fail(root,
                 QStringLiteral(
                     "no 'pilothouse:' section (expected under 'all: vars:' or at the top level)"));

        Inventory inv;
        inv.path = m_path;
        inv.settings = m_settings;
        for (const QString &name : std::as_const(m_order))
            inv.hosts.append(resolve(name, m_hosts.value(name)));
        validate(inv);
        return inv;
    }

private:
    struct Pending
    {
        HostVars vars;      // the host's own, merged over its listings
        QStringList groups; // every group it is in, directly or through children
        YAML::Mark mark;
    };

    void readGroup(const QString &group, const YAML::Node &node, int depth, QStringList parents)
    {
        if (parents.contains(group))
            fail(node, QStringLiteral("group '%1' contains itself").arg(group));
        parents.append(group);
        m_groupDepth[group] = std::max(m_groupDepth.value(group), depth);
        if (node.IsNull())
            return; // an empty group is valid Ansible
        const QString where = QStringLiteral("group '%1'").arg(group);
        forEachEntry(
            node, where,
            [&](const QString &key, const YAML::Node &keyNode, const YAML::Node &value) {
                if (value.IsNull())
                    return;
                if (key == u"vars") {
                    forEachEntry(value, where + QStringLiteral(" vars"),
                                 [&](const QString &var, const YAML::Node &, const YAML::Node &v) {
                                     if (var == u"pilothouse")
                                         readSettings(v);
                                     else
                                         applyVar(m_groupVars[group], var, v);
                                 });
                } else if (key == u"hosts") {
                    forEachEntry(value, where + QStringLiteral(" hosts"),
                                 [&](const QString &host, const YAML::Node &hostKey,
                                     const YAML::Node &hostVars) {
                                     readHost(host, hostKey, hostVars, parents);
                                 });
                } else if (key == u"children") {
                    forEachEntry(
                        value, where + QStringLiteral(" children"),
                        [&](const QString &child, const YAML::Node &, const YAML::Node &childNode) {
                            readGroup(child, childNode, depth + 1, parents);
                        });
                } else {
                    fail(keyNode, QStringLiteral(
                                      "unexpected key '%1' in %2; expected hosts, children or vars")
                                      .arg(key, where));
                }
            });
    }

    static void applyVar(HostVars &vars, const QString &key, const YAML::Node &value,
                         const QString &dir)
    {
        if (key == u"ansible_host")
            vars.address = scalar(value, key);
        else if (key == u"ansible_port" || key == u"ansible_ssh_port")
            vars.port = port(value, key);
        else if (key == u"ansible_user" || key == u"ansible_ssh_user")
            vars.user = scalar(value, key);
        else if (key == u"ansible_ssh_private_key_file" || key == u"ansible_private_key_file")
            vars.keyFile = absolutePath(scalar(value, key), dir);
        // Other variables belong to Ansible's roles; Pilothouse has no use for them.
    }
    void applyVar(HostVars &vars, const QString &key, const YAML::Node &value) const
    {
        applyVar(vars, key, value, m_dir);
    }

    static void overlay(HostVars &into, const HostVars &from)
    {
        if (!from.address.isEmpty())
            into.address = from.address;
        if (from.port)
            into.port = from.port;
        if (!from.user.isEmpty())
            into.user = from.user;
        if (!from.keyFile.isEmpty())
            into.keyFile = from.keyFile;
    }

    void readHost(const QString &name, const YAML::Node &keyNode, const YAML::Node &node,
                  const QStringList &groups)
    {
        HostVars own;
        if (!node.IsNull()) {
            forEachEntry(node, QStringLiteral("host '%1'").arg(name),
                         [&](const QString &key, const YAML::Node &, const YAML::Node &value) {
                             applyVar(own, key, value);
                         });
        }
        auto it = m_hosts.find(name);
        if (it == m_hosts.end()) {
            m_order.append(name);
            it = m_hosts.insert(name, Pending{{}, {}, keyNode.Mark()});
        }
        // The same host under several groups is normal Ansible; conflicting
        // addresses for it are not.
        if (!own.address.isEmpty() && !it->vars.address.isEmpty() &&
            own.address != it->vars.address)
            fail(keyNode, QStringLiteral("host '%1' is listed again with address %2, but it was %3")
                              .arg(name, own.address, it->vars.address));
        overlay(it->vars, own);
        for (const QString &g : groups) {
            if (!it->groups.contains(g))
                it->groups.append(g);
        }
    }

    // Ansible's precedence: group vars from the shallowest group to the
    // deepest (same depth: by name), then the host's own vars.
    InventoryHost resolve(const QString &name, const Pending &p) const
    {
        QStringList ordered = p.groups;
        std::sort(ordered.begin(), ordered.end(), [this](const QString &a, const QString &b) {
            const int da = m_groupDepth.value(a), db = m_groupDepth.value(b);
            return da != db ? da < db : a < b;
        });
        HostVars vars;
        for (const QString &g : std::as_const(ordered))
            overlay(vars, m_groupVars.value(g));
        overlay(vars, p.vars);
        InventoryHost host{name,
                           vars.address.isEmpty() ? name : vars.address,
                           vars.port ? vars.port : 22,
                           vars.user,
                           vars.keyFile,
                           p.groups};
        return host;
    }

    void readSettings(const YAML::Node &node)
    {
        if (m_sawSettings)
            fail(node, QStringLiteral("a second 'pilothouse:' section; keep exactly one"));
        m_sawSettings = true;
        m_settingsMark = node.Mark();
        ClusterSettings &s = m_settings;
        forEachEntry(
            node, QStringLiteral("pilothouse"),
            [&](const QString &key, const YAML::Node &keyNode, const YAML::Node &value) {
                const QString what = QStringLiteral("pilothouse.") + key;
                if (key == u"cluster") {
                    s.cluster = scalar(value, what);
                } else if (key == u"stack") {
                    s.stack = scalar(value, what);
                } else if (key == u"proxy") {
                    s.proxy = scalar(value, what);
                    if (s.proxy != u"haproxy" && s.proxy != u"traefik")
                        fail(value, QStringLiteral("%1 must be 'haproxy' or 'traefik', found '%2'")
                                        .arg(what, s.proxy));
                } else if (key == u"domain") {
                    s.domain = scalar(value, what);
                } else if (key == u"known_hosts") {
                    s.knownHosts = absolutePath(scalar(value, what), m_dir);
                } else if (key == u"secrets_dir") {
                    s.secretsDir = absolutePath(scalar(value, what), m_dir);
                } else if (key == u"postgres") {
                    readPostgres(value);
                } else if (key == u"pgpool") {
                    forEachEntry(
                        value, what,
                        [&](const QString &k, const YAML::Node &kn, const YAML::Node &v) {
                            const QString w = what + u'.' + k;
                            if (k == u"service")
                                s.pgpoolService = scalar(v, w);
                            else if (k == u"port")
                                s.pgpoolPort = port(v, w);
                            else if (k == u"pcp_port")
                                s.pcpPort = port(v, w);
                            else
                                fail(kn, QStringLiteral(
                                             "unknown key '%1'; expected service, port or pcp_port")
                                             .arg(w));
                        });
                } else if (key == u"etcd") {
                    forEachEntry(
                        value, what,
                        [&](const QString &k, const YAML::Node &kn, const YAML::Node &v) {
                            const QString w = what + u'.' + k;
                            if (k == u"members")
                                s.etcdMembers = nameMap(v, w);
                            else if (k == u"client_port")
                                s.etcdClientPort = port(v, w);
                            else
                                fail(kn, QStringLiteral(
                                             "unknown key '%1'; expected members or client_port")
                                             .arg(w));
                        });
                } else if (key == u"glusterfs") {
                    forEachEntry(value, what,
                                 [&](const QString &k, const YAML::Node &kn, const YAML::Node &v) {
                                     const QString w = what + u'.' + k;
                                     if (k == u"volume")
                                         s.glusterVolume = scalar(v, w);
                                     else if (k == u"mount")
                                         s.glusterMount = scalar(v, w);
                                     else if (k == u"app_content")
                                         s.glusterAppContent = scalar(v, w);
                                     else if (k == u"bricks")
                                         s.glusterBricks = nameMap(v, w);
                                     else
                                         fail(kn,
                                              QStringLiteral("unknown key '%1'; expected volume, "
                                                             "mount, app_content or bricks")
                                                  .arg(w));
                                 });
                } else if (key == u"app") {
                    forEachEntry(
                        value, what,
                        [&](const QString &k, const YAML::Node &kn, const YAML::Node &v) {
                            const QString w = what + u'.' + k;
                            if (k == u"service")
                                s.appService = scalar(v, w);
                            else if (k == u"replicas")
                                s.appReplicas = integer(v, w, 0, 1000);
                            else if (k == u"port")
                                s.appPort = port(v, w);
                            else
                                fail(kn, QStringLiteral(
                                             "unknown key '%1'; expected service, replicas or port")
                                             .arg(w));
                        });
                } else if (key == u"provision") {
                    readProvision(value, what);
                } else {
                    fail(keyNode,
                         QStringLiteral("unknown key '%1' in the pilothouse section").arg(key));
                }
            });
    }

    void readProvision(const YAML::Node &node, const QString &what)
    {
        ProvisionSettings &p = m_settings.provision;
        p.present = true;
        forEachEntry(node, what, [&](const QString &k, const YAML::Node &kn, const YAML::Node &v) {
            const QString w = what + u'.' + k;
            if (k == u"initial_ssh_port") {
                p.initialSshPort = port(v, w);
            } else if (k == u"operator_user") {
                p.operatorUser = scalar(v, w);
                static const QRegularExpression name(QStringLiteral("^[a-z_][a-z0-9_-]{0,31}$"));
                if (!name.match(p.operatorUser).hasMatch())
                    fail(v, QStringLiteral("%1 must be a user name (lower case letters, digits, _ "
                                           "and -), found '%2'")
                                .arg(w, p.operatorUser));
            } else if (k == u"open_ports") {
                if (!v.IsSequence())
                    fail(
                        v,
                        QStringLiteral("%1 must be a list of ports, found %2").arg(w, kindName(v)));
                for (std::size_t i = 0; i < v.size(); ++i)
                    p.openPorts.append(port(v[i], QStringLiteral("%1[%2]").arg(w).arg(i)));
            } else if (k == u"image_archive") {
                p.imageArchive = absolutePath(scalar(v, w), m_dir);
            } else if (k == u"networks") {
                p.networks = textList(v, w);
            } else if (k == u"node_label") {
                p.nodeLabel = scalar(v, w);
            } else if (k == u"swarm") {
                forEachEntry(
                    v, w, [&](const QString &sk, const YAML::Node &skn, const YAML::Node &sv) {
                        const QString sw = w + u'.' + sk;
                        if (sk == u"default_addr_pool")
                            p.swarmDefaultAddrPool = scalar(sv, sw);
                        else if (sk == u"mask_length")
                            p.swarmMaskLength = integer(sv, sw, 8, 29);
                        else if (sk == u"task_history_limit")
                            p.taskHistoryLimit = integer(sv, sw, 0, 100);
                        else
                            fail(skn,
                                 QStringLiteral("unknown key '%1'; expected default_addr_pool, "
                                                "mask_length or task_history_limit")
                                     .arg(sw));
                    });
            } else if (k == u"docker_daemon") {
                expectMap(v, w);
                p.dockerDaemon = jsonOf(v, w).toObject();
            } else {
                fail(kn,
                     QStringLiteral("unknown key '%1'; expected initial_ssh_port, operator_user, "
                                    "open_ports, image_archive, networks, node_label, swarm or "
                                    "docker_daemon")
                         .arg(w));
            }
        });
    }

    void readPostgres(const YAML::Node &node)
    {
        ClusterSettings &s = m_settings;
        forEachEntry(node, QStringLiteral("pilothouse.postgres"),
                     [&](const QString &k, const YAML::Node &kn, const YAML::Node &v) {
                         const QString w = QStringLiteral("pilothouse.postgres.") + k;
                         if (k == u"port")
                             s.postgresPort = port(v, w);
                         else if (k == u"database")
                             s.database = scalar(v, w);
                         else if (k == u"repmgr_database")
                             s.repmgrDatabase = scalar(v, w);
                         else if (k == u"monitor_user")
                             s.monitorUser = scalar(v, w);
                         else if (k == u"nodes")
                             s.postgresNodes = nameMap(v, w);
                         else
                             fail(kn, QStringLiteral("unknown key '%1'; expected port, database, "
                                                     "repmgr_database, monitor_user or nodes")
                                          .arg(w));
                     });
    }

    // Cross-references, checked once the whole file is read.
    void validate(const Inventory &inv) const
    {
        const auto checkRefs = [&](const QMap<QString, QString> &map, const QString &what) {
            for (auto it = map.cbegin(); it != map.cend(); ++it) {
                if (!inv.host(it.value()))
                    throw LoadError{
                        m_settingsMark,
                        QStringLiteral(
                            "%1 places '%2' on host '%3', which the inventory does not list")
                            .arg(what, it.key(), it.value())};
            }
        };
        checkRefs(m_settings.postgresNodes, QStringLiteral("pilothouse.postgres.nodes"));
        checkRefs(m_settings.etcdMembers, QStringLiteral("pilothouse.etcd.members"));
        // bricks map host -> path: the keys are the hosts.
        for (auto it = m_settings.glusterBricks.cbegin(); it != m_settings.glusterBricks.cend();
             ++it) {
            if (!inv.host(it.key()))
                throw LoadError{m_settingsMark,
                                QStringLiteral("pilothouse.glusterfs.bricks names host '%1', which "
                                               "the inventory does not list")
                                    .arg(it.key())};
        }
        QSet<QString> addresses;
        for (const InventoryHost &h : inv.hosts) {
            const QString key = h.address + u':' + QString::number(h.sshPort);
            if (addresses.contains(key))
                throw LoadError{
                    m_hosts.value(h.name).mark,
                    QStringLiteral("host '%1' has the same address and port (%2) as another host")
                        .arg(h.name, key)};
            addresses.insert(key);
        }
    }

    QString m_path;
    QString m_dir;
    QHash<QString, Pending> m_hosts;
    QHash<QString, HostVars> m_groupVars;
    QHash<QString, int> m_groupDepth;
    QStringList m_order;
    ClusterSettings m_settings;
    bool m_sawSettings = false;
    YAML::Mark m_settingsMark;
};

Error toError(const QString &path, const YAML::Mark &mark, const QString &message)
{
    // yaml-cpp counts from 0 and uses -1 for "no position".
    return Error{message, path, mark.line >= 0 ? mark.line + 1 : 0,
                 mark.column >= 0 ? mark.column + 1 : 0};
}

} // namespace

Result<Inventory> loadBytes(const QByteArray &yaml, const QString &path)
{
    if (yaml.contains('\0'))
        return Error{QStringLiteral("the file is binary, not a YAML inventory"), path, 0, 0};
    try {
        const YAML::Node root = YAML::Load(yaml.toStdString());
        return Parser(path).parse(root);
    } catch (const LoadError &e) {
        return toError(path, e.mark, e.message);
    } catch (const YAML::Exception &e) {
        return toError(path, e.mark, QStringLiteral("not valid YAML: %1").arg(qs(e.msg)));
    }
}

Result<Inventory> loadFile(const QString &path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QFile file(absolute);
    if (!file.open(QIODevice::ReadOnly))
        return Error{QStringLiteral("cannot read the inventory: %1").arg(file.errorString()),
                     absolute, 0, 0};
    constexpr qint64 MaxSize = 4 * 1024 * 1024;
    if (file.size() > MaxSize)
        return Error{QStringLiteral("the inventory is larger than 4 MiB; is this the right file?"),
                     absolute, 0, 0};
    return loadBytes(file.readAll(), absolute);
}

} // namespace Pilothouse::InventoryLoader
