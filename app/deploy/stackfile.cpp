#include "app/deploy/stackfile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QSet>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace Pilothouse {

const StackService *StackPlan::service(const QString &key) const
{
    for (const StackService &s : services) {
        if (s.key == key)
            return &s;
    }
    return nullptr;
}

namespace StackFile {
namespace {

const QString NamespaceLabel = QStringLiteral("com.docker.stack.namespace");
const QString ImageLabel = QStringLiteral("com.docker.stack.image");

// Thrown inside the reader only; readBytes() turns it into an Error.
struct ReadError
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
    throw ReadError{node.Mark(), message};
}

QString kindName(const YAML::Node &node)
{
    switch (node.Type()) {
    case YAML::NodeType::Null:
        return QStringLiteral("nothing");
    case YAML::NodeType::Scalar:
        return QStringLiteral("'%1'").arg(qs(node.Scalar()));
    case YAML::NodeType::Sequence:
        return QStringLiteral("a list");
    case YAML::NodeType::Map:
        return QStringLiteral("a mapping");
    case YAML::NodeType::Undefined:
        break;
    }
    return QStringLiteral("nothing");
}

// A network create request as the docker CLI sends it.
QJsonObject networkBody(const QString &name, const QString &driver, bool attachable, bool internal,
                        const QJsonObject &labels, const QJsonObject &options)
{
    return QJsonObject{
        {QStringLiteral("Name"), name},
        {QStringLiteral("CheckDuplicate"), true},
        {QStringLiteral("Driver"), driver},
        {QStringLiteral("Scope"), QString()},
        {QStringLiteral("Attachable"), attachable},
        {QStringLiteral("Internal"), internal},
        {QStringLiteral("Ingress"), false},
        {QStringLiteral("ConfigOnly"), false},
        {QStringLiteral("ConfigFrom"), QJsonValue::Null},
        {QStringLiteral("IPAM"), QJsonValue::Null},
        {QStringLiteral("Options"), options.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(options)},
        {QStringLiteral("Labels"), labels},
    };
}

struct Entry
{
    QString key;
    YAML::Node keyNode;
    YAML::Node value;
};

// The entries of a mapping in file order, with YAML merge keys (<<) applied:
// a key written in the mapping wins over a merged one, an earlier merged
// mapping over a later one. Duplicate keys are refused.
QList<Entry> entries(const YAML::Node &map, const QString &what)
{
    if (!map.IsMap())
        fail(map, QStringLiteral("%1 must be a mapping, found %2").arg(what, kindName(map)));
    QList<Entry> own;
    QList<YAML::Node> merged;
    QSet<QString> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
        const YAML::Node key = it->first;
        if (!key.IsScalar())
            fail(key, QStringLiteral("%1 has a key that is not a name").arg(what));
        const QString name = qs(key.Scalar());
        if (name == QLatin1String("<<") && key.Tag() == "?") { // plain, not quoted
            const YAML::Node value = it->second;
            if (value.IsMap()) {
                merged.append(value);
            } else if (value.IsSequence()) {
                for (const YAML::Node &m : value) {
                    if (!m.IsMap())
                        fail(m, QStringLiteral("a merge key (<<) takes mappings only"));
                    merged.append(m);
                }
            } else {
                fail(value, QStringLiteral("a merge key (<<) takes a mapping or a list of mappings"));
            }
            continue;
        }
        if (seen.contains(name))
            fail(key, QStringLiteral("%1 has the key '%2' twice").arg(what, name));
        seen.insert(name);
        own.append({name, key, it->second});
    }
    for (const YAML::Node &m : std::as_const(merged)) {
        for (const Entry &e : entries(m, what)) {
            if (!seen.contains(e.key)) {
                seen.insert(e.key);
                own.append(e);
            }
        }
    }
    return own;
}

class Reader
{
public:
    Reader(QString path, QString stack, const QHash<QString, QString> &environment)
        : m_path(std::move(path))
        , m_dir(QFileInfo(m_path).absolutePath())
        , m_stack(std::move(stack))
        , m_env(environment)
    {}

    StackPlan read(const YAML::Node &root);

private:
    QString interpolate(const QString &text, const YAML::Node &node) const;
    QString str(const YAML::Node &node, const QString &what) const;
    QStringList strings(const YAML::Node &node, const QString &what) const;
    QStringList command(const YAML::Node &node, const QString &what) const;
    qint64 integer(const YAML::Node &node, const QString &what, qint64 min, qint64 max) const;
    bool boolean(const YAML::Node &node, const QString &what) const;
    qint64 duration(const YAML::Node &node, const QString &what) const;
    QJsonObject labels(const YAML::Node &node, const QString &what) const;
    void checkKeys(const QList<Entry> &es, const QStringList &allowed, const QString &what) const;
    QString resolvePath(const QString &p) const;

    StackObject network(const Entry &e);
    StackObject fileObject(const Entry &e, const QString &kind);
    void volume(const Entry &e);
    StackService service(const Entry &e);
    QJsonArray mounts(const YAML::Node &node, const QString &what) const;
    QJsonArray ports(const YAML::Node &node, const QString &what) const;
    QJsonArray fileReferences(const YAML::Node &node, const QString &what, const QString &kind);
    QJsonObject healthcheck(const YAML::Node &node, const QString &what) const;
    void deploy(const YAML::Node &node, const QString &what, QJsonObject &spec,
                QJsonObject &task) const;
    QJsonObject updateConfig(const YAML::Node &node, const QString &what) const;

    QString m_path;
    QString m_dir;
    QString m_stack;
    const QHash<QString, QString> &m_env;
    QHash<QString, QString> m_networkNames; // key -> name
    QHash<QString, QString> m_secretNames;
    QHash<QString, QString> m_configNames;
    struct Volume
    {
        QString name;
        bool external = false;
        QJsonObject labels;
        QString driver;
        QJsonObject driverOptions;
    };
    QHash<QString, Volume> m_volumes;
    bool m_needsDefaultNetwork = false;
};

QString Reader::interpolate(const QString &text, const YAML::Node &node) const
{
    if (!text.contains(QLatin1Char('$')))
        return text;
    QString out;
    out.reserve(text.size());
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (c != QLatin1Char('$') || i + 1 >= text.size()) {
            out += c;
            continue;
        }
        const QChar n = text.at(i + 1);
        if (n == QLatin1Char('$')) {
            out += QLatin1Char('$');
            ++i;
            continue;
        }
        if (n == QLatin1Char('{')) {
            const qsizetype close = text.indexOf(QLatin1Char('}'), i + 2);
            if (close < 0)
                fail(node, QStringLiteral("'%1' has a ${ without its }").arg(text));
            const QString inner = text.mid(i + 2, close - i - 2);
            static const QRegularExpression form(
                QStringLiteral("^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])(.*))?$"),
                QRegularExpression::DotMatchesEverythingOption);
            const QRegularExpressionMatch m = form.match(inner);
            if (!m.hasMatch())
                fail(node, QStringLiteral("'${%1}' is not a variable reference Pilothouse reads "
                                          "(${NAME}, ${NAME:-default}, ${NAME-default}, "
                                          "${NAME:?error}, ${NAME?error})")
                               .arg(inner));
            const QString name = m.captured(1);
            const QString op = m.captured(2);
            const QString arg = m.captured(3);
            const bool set = m_env.contains(name);
            const QString value = m_env.value(name);
            const bool unsetOrEmpty = !set || value.isEmpty();
            if (op.isEmpty()) {
                out += value; // unset: empty, as the docker CLI does (it warns)
            } else if (op == QLatin1String(":-")) {
                out += unsetOrEmpty ? arg : value;
            } else if (op == QLatin1String("-")) {
                out += set ? value : arg;
            } else {
                const bool missing = op == QLatin1String(":?") ? unsetOrEmpty : !set;
                if (missing)
                    fail(node, QStringLiteral("the variable %1 must be set: %2")
                                   .arg(name, arg.isEmpty() ? QStringLiteral("no message") : arg));
                out += value;
            }
            i = close;
            continue;
        }
        if (n.isLetter() || n == QLatin1Char('_')) {
            qsizetype end = i + 1;
            while (end < text.size() &&
                   (text.at(end).isLetterOrNumber() || text.at(end) == QLatin1Char('_')))
                ++end;
            out += m_env.value(text.mid(i + 1, end - i - 1));
            i = end - 1;
            continue;
        }
        fail(node, QStringLiteral("'%1' has a $ that is neither a variable nor $$").arg(text));
    }
    return out;
}

QString Reader::str(const YAML::Node &node, const QString &what) const
{
    if (!node.IsScalar())
        fail(node, QStringLiteral("%1 must be a single value, found %2").arg(what, kindName(node)));
    return interpolate(qs(node.Scalar()), node);
}

QStringList Reader::strings(const YAML::Node &node, const QString &what) const
{
    if (node.IsScalar())
        return {str(node, what)};
    if (!node.IsSequence())
        fail(node, QStringLiteral("%1 must be a list, found %2").arg(what, kindName(node)));
    QStringList out;
    for (const YAML::Node &n : node)
        out.append(str(n, what));
    return out;
}

QStringList Reader::command(const YAML::Node &node, const QString &what) const
{
    if (node.IsSequence())
        return strings(node, what);
    const QString line = str(node, what);
    QStringList words;
    if (!splitWords(line, &words))
        fail(node, QStringLiteral("%1 has an unclosed quote: %2").arg(what, line));
    return words;
}

qint64 Reader::integer(const YAML::Node &node, const QString &what, qint64 min, qint64 max) const
{
    QString text = str(node, what).trimmed();
    bool ok = false;
    qint64 v = 0;
    // YAML 1.1 octal (0400) and 1.2 octal (0o400), as file modes are written.
    if (text.startsWith(QLatin1String("0o")))
        v = text.mid(2).toLongLong(&ok, 8);
    else if (text.size() > 1 && text.startsWith(QLatin1Char('0')))
        v = text.toLongLong(&ok, 8);
    else
        v = text.toLongLong(&ok, 10);
    if (!ok || v < min || v > max)
        fail(node, QStringLiteral("%1 must be a whole number from %2 to %3, found '%4'")
                       .arg(what)
                       .arg(min)
                       .arg(max)
                       .arg(text));
    return v;
}

bool Reader::boolean(const YAML::Node &node, const QString &what) const
{
    const QString t = str(node, what).toLower();
    if (t == QLatin1String("true") || t == QLatin1String("yes") || t == QLatin1String("on"))
        return true;
    if (t == QLatin1String("false") || t == QLatin1String("no") || t == QLatin1String("off"))
        return false;
    fail(node, QStringLiteral("%1 must be true or false, found '%2'").arg(what, t));
}

qint64 Reader::duration(const YAML::Node &node, const QString &what) const
{
    const QString t = str(node, what);
    const qint64 ns = parseDuration(t);
    if (ns < 0)
        fail(node, QStringLiteral("%1 must be a duration such as 10s, 1m30s or 500ms, found '%2'")
                       .arg(what, t));
    return ns;
}

QJsonObject Reader::labels(const YAML::Node &node, const QString &what) const
{
    QJsonObject out;
    if (node.IsSequence()) {
        for (const YAML::Node &n : node) {
            const QString item = str(n, what);
            const qsizetype eq = item.indexOf(QLatin1Char('='));
            out.insert(eq < 0 ? item : item.left(eq), eq < 0 ? QString() : item.mid(eq + 1));
        }
        return out;
    }
    for (const Entry &e : entries(node, what))
        out.insert(e.key, e.value.IsNull() ? QString() : str(e.value, what + QLatin1Char('.') + e.key));
    return out;
}

void Reader::checkKeys(const QList<Entry> &es, const QStringList &allowed, const QString &what) const
{
    for (const Entry &e : es) {
        if (!allowed.contains(e.key) && !e.key.startsWith(QLatin1String("x-")))
            fail(e.keyNode, QStringLiteral("%1.%2 is not a key Pilothouse's stack reader knows "
                                           "(it knows: %3)")
                                .arg(what, e.key, allowed.join(QStringLiteral(", "))));
    }
}

QString Reader::resolvePath(const QString &p) const
{
    if (p.startsWith(QLatin1Char('/')))
        return p;
    return QDir::cleanPath(m_dir + QLatin1Char('/') + p);
}

StackObject Reader::network(const Entry &e)
{
    const QString what = QStringLiteral("networks.") + e.key;
    StackObject n;
    n.key = e.key;
    n.name = m_stack + QLatin1Char('_') + e.key;
    QString driver = QStringLiteral("overlay");
    bool attachable = false, internal = false, named = false;
    QJsonObject labels, options;
    if (!e.value.IsNull()) {
        const QList<Entry> es = entries(e.value, what);
        checkKeys(es,
                  {QStringLiteral("name"), QStringLiteral("external"), QStringLiteral("driver"),
                   QStringLiteral("driver_opts"), QStringLiteral("attachable"),
                   QStringLiteral("internal"), QStringLiteral("labels")},
                  what);
        for (const Entry &f : es) {
            const QString fw = what + QLatin1Char('.') + f.key;
            if (f.key == QLatin1String("name")) {
                n.name = str(f.value, fw);
                named = true;
            } else if (f.key == QLatin1String("external")) {
                n.external = boolean(f.value, fw);
            }
            else if (f.key == QLatin1String("driver"))
                driver = str(f.value, fw);
            else if (f.key == QLatin1String("driver_opts"))
                options = this->labels(f.value, fw);
            else if (f.key == QLatin1String("attachable"))
                attachable = boolean(f.value, fw);
            else if (f.key == QLatin1String("internal"))
                internal = boolean(f.value, fw);
            else if (f.key == QLatin1String("labels"))
                labels = this->labels(f.value, fw);
        }
    }
    if (n.external) {
        if (!named)
            n.name = e.key;
        return n;
    }
    labels.insert(NamespaceLabel, m_stack);
    n.body = networkBody(n.name, driver, attachable, internal, labels, options);
    return n;
}

StackObject Reader::fileObject(const Entry &e, const QString &kind)
{
    const QString what = kind + QLatin1Char('.') + e.key;
    StackObject o;
    o.key = e.key;
    o.name = m_stack + QLatin1Char('_') + e.key;
    const QList<Entry> es = entries(e.value, what);
    checkKeys(es,
              {QStringLiteral("name"), QStringLiteral("external"), QStringLiteral("file"),
               QStringLiteral("labels")},
              what);
    QJsonObject labels;
    bool named = false;
    for (const Entry &f : es) {
        const QString fw = what + QLatin1Char('.') + f.key;
        if (f.key == QLatin1String("name")) {
            o.name = str(f.value, fw);
            named = true;
        } else if (f.key == QLatin1String("external")) {
            o.external = boolean(f.value, fw);
        } else if (f.key == QLatin1String("file")) {
            o.sourceFile = resolvePath(str(f.value, fw));
        } else if (f.key == QLatin1String("labels")) {
            labels = this->labels(f.value, fw);
        }
    }
    if (o.external) {
        if (!named)
            o.name = e.key;
        o.sourceFile.clear();
        return o;
    }
    if (o.sourceFile.isEmpty())
        fail(e.keyNode, QStringLiteral("%1 needs file: (the file its content is read from) or "
                                       "external: true")
                            .arg(what));
    labels.insert(NamespaceLabel, m_stack);
    o.body = QJsonObject{{QStringLiteral("Name"), o.name}, {QStringLiteral("Labels"), labels}};
    return o;
}

void Reader::volume(const Entry &e)
{
    const QString what = QStringLiteral("volumes.") + e.key;
    Volume v;
    v.name = m_stack + QLatin1Char('_') + e.key;
    if (!e.value.IsNull()) {
        const QList<Entry> es = entries(e.value, what);
        checkKeys(es,
                  {QStringLiteral("name"), QStringLiteral("external"), QStringLiteral("driver"),
                   QStringLiteral("driver_opts"), QStringLiteral("labels")},
                  what);
        bool named = false;
        for (const Entry &f : es) {
            const QString fw = what + QLatin1Char('.') + f.key;
            if (f.key == QLatin1String("name")) {
                v.name = str(f.value, fw);
                named = true;
            } else if (f.key == QLatin1String("external")) {
                v.external = boolean(f.value, fw);
            } else if (f.key == QLatin1String("driver")) {
                v.driver = str(f.value, fw);
            } else if (f.key == QLatin1String("driver_opts")) {
                v.driverOptions = labels(f.value, fw);
            } else if (f.key == QLatin1String("labels")) {
                v.labels = labels(f.value, fw);
            }
        }
        if (v.external && !named)
            v.name = e.key;
    }
    m_volumes.insert(e.key, v);
}

QJsonArray Reader::mounts(const YAML::Node &node, const QString &what) const
{
    if (!node.IsSequence())
        fail(node, QStringLiteral("%1 must be a list, found %2").arg(what, kindName(node)));
    QJsonArray out;
    for (const YAML::Node &n : node) {
        QString type, source, target;
        bool readOnly = false;
        if (n.IsScalar()) {
            const QString spec = str(n, what);
            const QStringList parts = spec.split(QLatin1Char(':'));
            if (parts.size() > 3 || parts.contains(QString()))
                fail(n, QStringLiteral("%1: '%2' is not SOURCE:TARGET[:ro|rw]").arg(what, spec));
            if (parts.size() == 1) {
                target = parts.at(0);
                type = QStringLiteral("volume");
            } else {
                source = parts.at(0);
                target = parts.at(1);
                if (parts.size() == 3) {
                    if (parts.at(2) == QLatin1String("ro"))
                        readOnly = true;
                    else if (parts.at(2) != QLatin1String("rw"))
                        fail(n, QStringLiteral("%1: '%2' has the mode '%3'; Pilothouse reads ro "
                                               "and rw")
                                    .arg(what, spec, parts.at(2)));
                }
                const bool path = source.startsWith(QLatin1Char('/')) ||
                                  source.startsWith(QLatin1Char('.')) ||
                                  source.startsWith(QLatin1Char('~'));
                type = path ? QStringLiteral("bind") : QStringLiteral("volume");
            }
        } else {
            const QList<Entry> es = entries(n, what);
            checkKeys(es,
                      {QStringLiteral("type"), QStringLiteral("source"), QStringLiteral("target"),
                       QStringLiteral("read_only")},
                      what);
            for (const Entry &f : es) {
                const QString fw = what + QLatin1Char('.') + f.key;
                if (f.key == QLatin1String("type"))
                    type = str(f.value, fw);
                else if (f.key == QLatin1String("source"))
                    source = str(f.value, fw);
                else if (f.key == QLatin1String("target"))
                    target = str(f.value, fw);
                else if (f.key == QLatin1String("read_only"))
                    readOnly = boolean(f.value, fw);
            }
            if (type != QLatin1String("volume") && type != QLatin1String("bind") &&
                type != QLatin1String("tmpfs"))
                fail(n, QStringLiteral("%1: type must be volume, bind or tmpfs, found '%2'")
                            .arg(what, type));
            if (target.isEmpty())
                fail(n, QStringLiteral("%1: a mount needs a target").arg(what));
        }
        QJsonObject m{{QStringLiteral("Type"), type}, {QStringLiteral("Target"), target}};
        if (type == QLatin1String("bind")) {
            if (source.startsWith(QLatin1Char('~')))
                fail(n, QStringLiteral("%1: '~' in a bind source is the deploying user's home, "
                                       "which is not the host's; write an absolute path")
                            .arg(what));
            m.insert(QStringLiteral("Source"), resolvePath(source));
        } else if (type == QLatin1String("volume") && !source.isEmpty()) {
            const auto v = m_volumes.constFind(source);
            if (v == m_volumes.cend())
                fail(n, QStringLiteral("%1: the volume '%2' is not declared under volumes:")
                            .arg(what, source));
            m.insert(QStringLiteral("Source"), v->name);
            if (!v->external) {
                QJsonObject labels = v->labels;
                labels.insert(NamespaceLabel, m_stack);
                QJsonObject options{{QStringLiteral("Labels"), labels}};
                if (!v->driver.isEmpty()) {
                    QJsonObject driver{{QStringLiteral("Name"), v->driver}};
                    if (!v->driverOptions.isEmpty())
                        driver.insert(QStringLiteral("Options"), v->driverOptions);
                    options.insert(QStringLiteral("DriverConfig"), driver);
                }
                m.insert(QStringLiteral("VolumeOptions"), options);
            }
        }
        if (readOnly)
            m.insert(QStringLiteral("ReadOnly"), true);
        out.append(m);
    }
    return out;
}

QJsonArray Reader::ports(const YAML::Node &node, const QString &what) const
{
    if (!node.IsSequence())
        fail(node, QStringLiteral("%1 must be a list, found %2").arg(what, kindName(node)));
    QList<QJsonObject> out;
    for (const YAML::Node &n : node) {
        if (n.IsScalar()) {
            QString spec = str(n, what);
            QString protocol = QStringLiteral("tcp");
            const qsizetype slash = spec.indexOf(QLatin1Char('/'));
            if (slash >= 0) {
                protocol = spec.mid(slash + 1);
                spec = spec.left(slash);
            }
            const QStringList parts = spec.split(QLatin1Char(':'));
            if (parts.size() > 2)
                fail(n, QStringLiteral("%1: '%2' binds a host address, which a Swarm service "
                                       "cannot; write PUBLISHED:TARGET")
                            .arg(what, spec));
            auto range = [&](const QString &t, int *lo, int *hi) {
                const QStringList r = t.split(QLatin1Char('-'));
                bool ok1 = false, ok2 = true;
                *lo = r.at(0).toInt(&ok1);
                *hi = r.size() == 2 ? r.at(1).toInt(&ok2) : *lo;
                if (r.size() > 2 || !ok1 || !ok2 || *lo < 1 || *hi > 65535 || *hi < *lo)
                    fail(n, QStringLiteral("%1: '%2' is not a port or a port range").arg(what, t));
            };
            int tlo = 0, thi = 0, plo = 0, phi = 0;
            range(parts.last(), &tlo, &thi);
            if (parts.size() == 2) {
                range(parts.first(), &plo, &phi);
                if (phi - plo != thi - tlo)
                    fail(n, QStringLiteral("%1: '%2' maps ranges of different sizes").arg(what, spec));
            }
            if (protocol != QLatin1String("tcp") && protocol != QLatin1String("udp") &&
                protocol != QLatin1String("sctp"))
                fail(n, QStringLiteral("%1: protocol '%2' is not tcp, udp or sctp").arg(what, protocol));
            for (int i = 0; i <= thi - tlo; ++i) {
                QJsonObject p{{QStringLiteral("Protocol"), protocol},
                              {QStringLiteral("TargetPort"), tlo + i},
                              {QStringLiteral("PublishMode"), QStringLiteral("ingress")}};
                if (parts.size() == 2)
                    p.insert(QStringLiteral("PublishedPort"), plo + i);
                out.append(p);
            }
            continue;
        }
        const QList<Entry> es = entries(n, what);
        checkKeys(es,
                  {QStringLiteral("target"), QStringLiteral("published"),
                   QStringLiteral("protocol"), QStringLiteral("mode")},
                  what);
        QJsonObject p{{QStringLiteral("Protocol"), QStringLiteral("tcp")},
                      {QStringLiteral("PublishMode"), QStringLiteral("ingress")}};
        for (const Entry &f : es) {
            const QString fw = what + QLatin1Char('.') + f.key;
            if (f.key == QLatin1String("target"))
                p.insert(QStringLiteral("TargetPort"), int(integer(f.value, fw, 1, 65535)));
            else if (f.key == QLatin1String("published"))
                p.insert(QStringLiteral("PublishedPort"), int(integer(f.value, fw, 1, 65535)));
            else if (f.key == QLatin1String("protocol"))
                p.insert(QStringLiteral("Protocol"), str(f.value, fw));
            else if (f.key == QLatin1String("mode")) {
                const QString mode = str(f.value, fw);
                if (mode != QLatin1String("host") && mode != QLatin1String("ingress"))
                    fail(f.value, QStringLiteral("%1 must be host or ingress, found '%2'").arg(fw, mode));
                p.insert(QStringLiteral("PublishMode"), mode);
            }
        }
        if (!p.contains(QStringLiteral("TargetPort")))
            fail(n, QStringLiteral("%1: a port needs a target").arg(what));
        out.append(p);
    }
    // The docker CLI sends ports ordered by published port.
    std::stable_sort(out.begin(), out.end(), [](const QJsonObject &a, const QJsonObject &b) {
        return a.value(QStringLiteral("PublishedPort")).toInt() <
               b.value(QStringLiteral("PublishedPort")).toInt();
    });
    QJsonArray array;
    for (const QJsonObject &p : std::as_const(out))
        array.append(p);
    return array;
}

QJsonArray Reader::fileReferences(const YAML::Node &node, const QString &what, const QString &kind)
{
    if (!node.IsSequence())
        fail(node, QStringLiteral("%1 must be a list, found %2").arg(what, kindName(node)));
    const QHash<QString, QString> &names = kind == QLatin1String("secrets") ? m_secretNames
                                                                            : m_configNames;
    const QString nameKey = kind == QLatin1String("secrets") ? QStringLiteral("SecretName")
                                                              : QStringLiteral("ConfigName");
    QList<QJsonObject> refs;
    for (const YAML::Node &n : node) {
        QString source, target, uid = QStringLiteral("0"), gid = QStringLiteral("0");
        int mode = 0444;
        if (n.IsScalar()) {
            source = str(n, what);
        } else {
            const QList<Entry> es = entries(n, what);
            checkKeys(es,
                      {QStringLiteral("source"), QStringLiteral("target"), QStringLiteral("uid"),
                       QStringLiteral("gid"), QStringLiteral("mode")},
                      what);
            for (const Entry &f : es) {
                const QString fw = what + QLatin1Char('.') + f.key;
                if (f.key == QLatin1String("source"))
                    source = str(f.value, fw);
                else if (f.key == QLatin1String("target"))
                    target = str(f.value, fw);
                else if (f.key == QLatin1String("uid"))
                    uid = str(f.value, fw);
                else if (f.key == QLatin1String("gid"))
                    gid = str(f.value, fw);
                else if (f.key == QLatin1String("mode"))
                    mode = int(integer(f.value, fw, 0, 07777));
            }
        }
        if (!names.contains(source))
            fail(n, QStringLiteral("%1: '%2' is not declared under %3:").arg(what, source, kind));
        refs.append(QJsonObject{
            {nameKey, names.value(source)},
            {QStringLiteral("File"),
             QJsonObject{{QStringLiteral("Name"), target.isEmpty() ? source : target},
                         {QStringLiteral("UID"), uid},
                         {QStringLiteral("GID"), gid},
                         {QStringLiteral("Mode"), mode}}},
        });
    }
    // The docker CLI sends them ordered by name (in no fixed order among equal
    // names); here equal names are ordered by file name, so that a plan is stable.
    std::sort(refs.begin(), refs.end(), [&nameKey](const QJsonObject &a, const QJsonObject &b) {
        const QString an = a.value(nameKey).toString(), bn = b.value(nameKey).toString();
        if (an != bn)
            return an < bn;
        return a.value(QStringLiteral("File")).toObject().value(QStringLiteral("Name")).toString() <
               b.value(QStringLiteral("File")).toObject().value(QStringLiteral("Name")).toString();
    });
    QJsonArray out;
    for (const QJsonObject &r : std::as_const(refs))
        out.append(r);
    return out;
}

QJsonObject Reader::healthcheck(const YAML::Node &node, const QString &what) const
{
    const QList<Entry> es = entries(node, what);
    checkKeys(es,
              {QStringLiteral("test"), QStringLiteral("interval"), QStringLiteral("timeout"),
               QStringLiteral("retries"), QStringLiteral("start_period"),
               QStringLiteral("disable")},
              what);
    QJsonObject h;
    for (const Entry &f : es) {
        const QString fw = what + QLatin1Char('.') + f.key;
        if (f.key == QLatin1String("test")) {
            const QStringList test = f.value.IsSequence()
                                         ? strings(f.value, fw)
                                         : QStringList{QStringLiteral("CMD-SHELL"), str(f.value, fw)};
            h.insert(QStringLiteral("Test"), QJsonArray::fromStringList(test));
        } else if (f.key == QLatin1String("interval")) {
            h.insert(QStringLiteral("Interval"), duration(f.value, fw));
        } else if (f.key == QLatin1String("timeout")) {
            h.insert(QStringLiteral("Timeout"), duration(f.value, fw));
        } else if (f.key == QLatin1String("start_period")) {
            h.insert(QStringLiteral("StartPeriod"), duration(f.value, fw));
        } else if (f.key == QLatin1String("retries")) {
            h.insert(QStringLiteral("Retries"), integer(f.value, fw, 0, 1000000));
        } else if (f.key == QLatin1String("disable") && boolean(f.value, fw)) {
            return QJsonObject{{QStringLiteral("Test"), QJsonArray{QStringLiteral("NONE")}}};
        }
    }
    return h;
}

QJsonObject Reader::updateConfig(const YAML::Node &node, const QString &what) const
{
    const QList<Entry> es = entries(node, what);
    checkKeys(es,
              {QStringLiteral("parallelism"), QStringLiteral("delay"),
               QStringLiteral("failure_action"), QStringLiteral("monitor"),
               QStringLiteral("max_failure_ratio"), QStringLiteral("order")},
              what);
    QJsonObject u{{QStringLiteral("Parallelism"), 1}, {QStringLiteral("MaxFailureRatio"), 0}};
    for (const Entry &f : es) {
        const QString fw = what + QLatin1Char('.') + f.key;
        if (f.key == QLatin1String("parallelism")) {
            u.insert(QStringLiteral("Parallelism"), integer(f.value, fw, 0, 1000000));
        } else if (f.key == QLatin1String("delay")) {
            u.insert(QStringLiteral("Delay"), duration(f.value, fw));
        } else if (f.key == QLatin1String("monitor")) {
            u.insert(QStringLiteral("Monitor"), duration(f.value, fw));
        } else if (f.key == QLatin1String("failure_action")) {
            const QString a = str(f.value, fw);
            if (a != QLatin1String("pause") && a != QLatin1String("continue") &&
                a != QLatin1String("rollback"))
                fail(f.value, QStringLiteral("%1 must be pause, continue or rollback, found '%2'")
                                  .arg(fw, a));
            u.insert(QStringLiteral("FailureAction"), a);
        } else if (f.key == QLatin1String("order")) {
            const QString o = str(f.value, fw);
            if (o != QLatin1String("stop-first") && o != QLatin1String("start-first"))
                fail(f.value, QStringLiteral("%1 must be stop-first or start-first, found '%2'")
                                  .arg(fw, o));
            u.insert(QStringLiteral("Order"), o);
        } else if (f.key == QLatin1String("max_failure_ratio")) {
            bool ok = false;
            const double r = str(f.value, fw).toDouble(&ok);
            if (!ok || r < 0 || r > 1)
                fail(f.value, QStringLiteral("%1 must be a number from 0 to 1").arg(fw));
            u.insert(QStringLiteral("MaxFailureRatio"), r);
        }
    }
    return u;
}

void Reader::deploy(const YAML::Node &node, const QString &what, QJsonObject &spec,
                    QJsonObject &task) const
{
    const QList<Entry> es = entries(node, what);
    checkKeys(es,
              {QStringLiteral("mode"), QStringLiteral("replicas"), QStringLiteral("endpoint_mode"),
               QStringLiteral("labels"), QStringLiteral("placement"), QStringLiteral("resources"),
               QStringLiteral("restart_policy"), QStringLiteral("update_config"),
               QStringLiteral("rollback_config")},
              what);
    QString mode = QStringLiteral("replicated");
    qint64 replicas = -1;
    for (const Entry &f : es) {
        const QString fw = what + QLatin1Char('.') + f.key;
        if (f.key == QLatin1String("mode")) {
            mode = str(f.value, fw);
            if (mode != QLatin1String("replicated") && mode != QLatin1String("global"))
                fail(f.value, QStringLiteral("%1 must be replicated or global, found '%2'").arg(fw, mode));
        } else if (f.key == QLatin1String("replicas")) {
            replicas = integer(f.value, fw, 0, 1000000);
        } else if (f.key == QLatin1String("endpoint_mode")) {
            const QString m = str(f.value, fw);
            if (m != QLatin1String("vip") && m != QLatin1String("dnsrr"))
                fail(f.value, QStringLiteral("%1 must be vip or dnsrr, found '%2'").arg(fw, m));
            QJsonObject endpoint = spec.value(QStringLiteral("EndpointSpec")).toObject();
            endpoint.insert(QStringLiteral("Mode"), m);
            spec.insert(QStringLiteral("EndpointSpec"), endpoint);
        } else if (f.key == QLatin1String("labels")) {
            QJsonObject l = spec.value(QStringLiteral("Labels")).toObject();
            const QJsonObject add = labels(f.value, fw);
            for (auto it = add.begin(); it != add.end(); ++it)
                l.insert(it.key(), it.value());
            spec.insert(QStringLiteral("Labels"), l);
        } else if (f.key == QLatin1String("placement")) {
            QJsonObject p;
            const QList<Entry> ps = entries(f.value, fw);
            checkKeys(ps,
                      {QStringLiteral("constraints"), QStringLiteral("preferences"),
                       QStringLiteral("max_replicas_per_node")},
                      fw);
            for (const Entry &g : ps) {
                const QString gw = fw + QLatin1Char('.') + g.key;
                if (g.key == QLatin1String("constraints")) {
                    p.insert(QStringLiteral("Constraints"),
                             QJsonArray::fromStringList(strings(g.value, gw)));
                } else if (g.key == QLatin1String("max_replicas_per_node")) {
                    p.insert(QStringLiteral("MaxReplicas"), integer(g.value, gw, 0, 1000000));
                } else if (g.key == QLatin1String("preferences")) {
                    if (!g.value.IsSequence())
                        fail(g.value, QStringLiteral("%1 must be a list").arg(gw));
                    QJsonArray prefs;
                    for (const YAML::Node &pref : g.value) {
                        const QList<Entry> pe = entries(pref, gw);
                        checkKeys(pe, {QStringLiteral("spread")}, gw);
                        for (const Entry &s : pe)
                            prefs.append(QJsonObject{
                                {QStringLiteral("Spread"),
                                 QJsonObject{{QStringLiteral("SpreadDescriptor"),
                                              str(s.value, gw + QStringLiteral(".spread"))}}}});
                    }
                    p.insert(QStringLiteral("Preferences"), prefs);
                }
            }
            task.insert(QStringLiteral("Placement"), p);
        } else if (f.key == QLatin1String("resources")) {
            QJsonObject r;
            const QList<Entry> rs = entries(f.value, fw);
            checkKeys(rs, {QStringLiteral("limits"), QStringLiteral("reservations")}, fw);
            for (const Entry &g : rs) {
                const QString gw = fw + QLatin1Char('.') + g.key;
                QJsonObject values;
                const QList<Entry> vs = entries(g.value, gw);
                checkKeys(vs, {QStringLiteral("cpus"), QStringLiteral("memory")}, gw);
                for (const Entry &v : vs) {
                    const QString vw = gw + QLatin1Char('.') + v.key;
                    const QString text = str(v.value, vw);
                    if (v.key == QLatin1String("cpus")) {
                        bool ok = false;
                        const double cpus = text.toDouble(&ok);
                        if (!ok || cpus <= 0)
                            fail(v.value, QStringLiteral("%1 must be a number of CPUs such as 0.5, "
                                                         "found '%2'")
                                              .arg(vw, text));
                        values.insert(QStringLiteral("NanoCPUs"), qint64(std::llround(cpus * 1e9)));
                    } else {
                        const qint64 bytes = parseBytes(text);
                        if (bytes < 0)
                            fail(v.value, QStringLiteral("%1 must be a size such as 64M or 1G, "
                                                         "found '%2'")
                                              .arg(vw, text));
                        values.insert(QStringLiteral("MemoryBytes"), bytes);
                    }
                }
                r.insert(g.key == QLatin1String("limits") ? QStringLiteral("Limits")
                                                          : QStringLiteral("Reservations"),
                         values);
            }
            task.insert(QStringLiteral("Resources"), r);
        } else if (f.key == QLatin1String("restart_policy")) {
            QJsonObject r;
            const QList<Entry> rs = entries(f.value, fw);
            checkKeys(rs,
                      {QStringLiteral("condition"), QStringLiteral("delay"),
                       QStringLiteral("max_attempts"), QStringLiteral("window")},
                      fw);
            for (const Entry &g : rs) {
                const QString gw = fw + QLatin1Char('.') + g.key;
                if (g.key == QLatin1String("condition")) {
                    const QString c = str(g.value, gw);
                    if (c != QLatin1String("none") && c != QLatin1String("on-failure") &&
                        c != QLatin1String("any"))
                        fail(g.value, QStringLiteral("%1 must be none, on-failure or any, found '%2'")
                                          .arg(gw, c));
                    r.insert(QStringLiteral("Condition"), c);
                } else if (g.key == QLatin1String("delay")) {
                    r.insert(QStringLiteral("Delay"), duration(g.value, gw));
                } else if (g.key == QLatin1String("window")) {
                    r.insert(QStringLiteral("Window"), duration(g.value, gw));
                } else if (g.key == QLatin1String("max_attempts")) {
                    r.insert(QStringLiteral("MaxAttempts"), integer(g.value, gw, 0, 1000000));
                }
            }
            task.insert(QStringLiteral("RestartPolicy"), r);
        } else if (f.key == QLatin1String("update_config")) {
            spec.insert(QStringLiteral("UpdateConfig"), updateConfig(f.value, fw));
        } else if (f.key == QLatin1String("rollback_config")) {
            spec.insert(QStringLiteral("RollbackConfig"), updateConfig(f.value, fw));
        }
    }
    if (mode == QLatin1String("global")) {
        if (replicas >= 0)
            fail(node, QStringLiteral("%1: a global service takes no replicas").arg(what));
        spec.insert(QStringLiteral("Mode"),
                    QJsonObject{{QStringLiteral("Global"), QJsonObject{}}});
    } else {
        QJsonObject replicated;
        if (replicas >= 0)
            replicated.insert(QStringLiteral("Replicas"), replicas);
        spec.insert(QStringLiteral("Mode"),
                    QJsonObject{{QStringLiteral("Replicated"), replicated}});
    }
}

StackService Reader::service(const Entry &e)
{
    const QString what = QStringLiteral("services.") + e.key;
    const QList<Entry> es = entries(e.value, what);
    checkKeys(es,
              {QStringLiteral("image"), QStringLiteral("command"), QStringLiteral("entrypoint"),
               QStringLiteral("environment"), QStringLiteral("hostname"), QStringLiteral("user"),
               QStringLiteral("working_dir"), QStringLiteral("labels"), QStringLiteral("networks"),
               QStringLiteral("secrets"), QStringLiteral("configs"), QStringLiteral("volumes"),
               QStringLiteral("ports"), QStringLiteral("healthcheck"),
               QStringLiteral("stop_grace_period"), QStringLiteral("stop_signal"),
               QStringLiteral("init"), QStringLiteral("extra_hosts"), QStringLiteral("dns"),
               QStringLiteral("logging"), QStringLiteral("deploy"), QStringLiteral("read_only"),
               QStringLiteral("tty"), QStringLiteral("stdin_open")},
              what);
    StackService s;
    s.key = e.key;
    s.name = m_stack + QLatin1Char('_') + e.key;
    s.line = int(e.keyNode.Mark().line) + 1;

    QJsonObject container{
        {QStringLiteral("Labels"), QJsonObject{{NamespaceLabel, m_stack}}},
        {QStringLiteral("Privileges"),
         QJsonObject{{QStringLiteral("CredentialSpec"), QJsonValue::Null},
                     {QStringLiteral("NoNewPrivileges"), false},
                     {QStringLiteral("SELinuxContext"), QJsonValue::Null}}},
    };
    QJsonObject task{{QStringLiteral("ForceUpdate"), 0},
                     {QStringLiteral("Placement"), QJsonObject{}},
                     {QStringLiteral("Resources"), QJsonObject{}}};
    QJsonObject spec{{QStringLiteral("Name"), s.name},
                     {QStringLiteral("Labels"), QJsonObject{{NamespaceLabel, m_stack}}},
                     {QStringLiteral("EndpointSpec"), QJsonObject{}}};
    QJsonArray networks;
    bool hasNetworks = false, hasDeploy = false;
    QString image;

    for (const Entry &f : es) {
        const QString fw = what + QLatin1Char('.') + f.key;
        const QString &k = f.key;
        if (k == QLatin1String("image")) {
            image = str(f.value, fw);
        } else if (k == QLatin1String("command")) {
            container.insert(QStringLiteral("Args"),
                             QJsonArray::fromStringList(command(f.value, fw)));
        } else if (k == QLatin1String("entrypoint")) {
            container.insert(QStringLiteral("Command"),
                             QJsonArray::fromStringList(command(f.value, fw)));
        } else if (k == QLatin1String("environment")) {
            QStringList env;
            auto add = [&](const QString &name, const std::optional<QString> &value) {
                if (value)
                    env.append(name + QLatin1Char('=') + *value);
                else if (m_env.contains(name))
                    env.append(name + QLatin1Char('=') + m_env.value(name));
                else
                    env.append(name);
            };
            if (f.value.IsSequence()) {
                for (const YAML::Node &n : f.value) {
                    const QString item = str(n, fw);
                    const qsizetype eq = item.indexOf(QLatin1Char('='));
                    add(eq < 0 ? item : item.left(eq),
                        eq < 0 ? std::nullopt : std::optional<QString>(item.mid(eq + 1)));
                }
            } else {
                for (const Entry &v : entries(f.value, fw))
                    add(v.key, v.value.IsNull()
                                   ? std::nullopt
                                   : std::optional<QString>(str(v.value, fw + QLatin1Char('.') + v.key)));
            }
            env.sort();
            container.insert(QStringLiteral("Env"), QJsonArray::fromStringList(env));
        } else if (k == QLatin1String("hostname")) {
            container.insert(QStringLiteral("Hostname"), str(f.value, fw));
        } else if (k == QLatin1String("user")) {
            container.insert(QStringLiteral("User"), str(f.value, fw));
        } else if (k == QLatin1String("working_dir")) {
            container.insert(QStringLiteral("Dir"), str(f.value, fw));
        } else if (k == QLatin1String("labels")) {
            QJsonObject l = labels(f.value, fw);
            l.insert(NamespaceLabel, m_stack);
            container.insert(QStringLiteral("Labels"), l);
        } else if (k == QLatin1String("networks")) {
            hasNetworks = true;
            QList<std::pair<QString, QJsonObject>> attached;
            auto attach = [&](const QString &key, const QStringList &aliases, const YAML::Node &at) {
                if (!m_networkNames.contains(key))
                    fail(at, QStringLiteral("%1: the network '%2' is not declared under networks:")
                                 .arg(fw, key));
                const QString target = m_networkNames.value(key);
                attached.append({target,
                                 QJsonObject{{QStringLiteral("Target"), target},
                                             {QStringLiteral("Aliases"),
                                              QJsonArray::fromStringList(aliases + QStringList{e.key})}}});
            };
            if (f.value.IsSequence()) {
                for (const YAML::Node &n : f.value)
                    attach(str(n, fw), {}, n);
            } else {
                for (const Entry &n : entries(f.value, fw)) {
                    QStringList aliases;
                    if (!n.value.IsNull()) {
                        const QString nw = fw + QLatin1Char('.') + n.key;
                        const QList<Entry> ns = entries(n.value, nw);
                        checkKeys(ns, {QStringLiteral("aliases")}, nw);
                        for (const Entry &a : ns)
                            aliases = strings(a.value, nw + QStringLiteral(".aliases"));
                    }
                    attach(n.key, aliases, n.keyNode);
                }
            }
            std::sort(attached.begin(), attached.end(),
                      [](const auto &a, const auto &b) { return a.first < b.first; });
            for (const auto &a : std::as_const(attached))
                networks.append(a.second);
        } else if (k == QLatin1String("secrets")) {
            container.insert(QStringLiteral("Secrets"), fileReferences(f.value, fw, QStringLiteral("secrets")));
        } else if (k == QLatin1String("configs")) {
            container.insert(QStringLiteral("Configs"), fileReferences(f.value, fw, QStringLiteral("configs")));
        } else if (k == QLatin1String("volumes")) {
            container.insert(QStringLiteral("Mounts"), mounts(f.value, fw));
        } else if (k == QLatin1String("ports")) {
            QJsonObject endpoint = spec.value(QStringLiteral("EndpointSpec")).toObject();
            endpoint.insert(QStringLiteral("Ports"), ports(f.value, fw));
            spec.insert(QStringLiteral("EndpointSpec"), endpoint);
        } else if (k == QLatin1String("healthcheck")) {
            container.insert(QStringLiteral("Healthcheck"), healthcheck(f.value, fw));
        } else if (k == QLatin1String("stop_grace_period")) {
            container.insert(QStringLiteral("StopGracePeriod"), duration(f.value, fw));
        } else if (k == QLatin1String("stop_signal")) {
            container.insert(QStringLiteral("StopSignal"), str(f.value, fw));
        } else if (k == QLatin1String("init")) {
            container.insert(QStringLiteral("Init"), boolean(f.value, fw));
        } else if (k == QLatin1String("read_only")) {
            if (boolean(f.value, fw))
                container.insert(QStringLiteral("ReadOnly"), true);
        } else if (k == QLatin1String("tty")) {
            if (boolean(f.value, fw))
                container.insert(QStringLiteral("TTY"), true);
        } else if (k == QLatin1String("stdin_open")) {
            if (boolean(f.value, fw))
                container.insert(QStringLiteral("OpenStdin"), true);
        } else if (k == QLatin1String("extra_hosts")) {
            QStringList hosts;
            if (f.value.IsMap()) {
                for (const Entry &h : entries(f.value, fw))
                    hosts.append(str(h.value, fw) + QLatin1Char(' ') + h.key);
            } else {
                for (const QString &h : strings(f.value, fw)) {
                    const qsizetype colon = h.indexOf(QLatin1Char(':'));
                    if (colon <= 0)
                        fail(f.value, QStringLiteral("%1: '%2' is not HOST:ADDRESS").arg(fw, h));
                    hosts.append(h.mid(colon + 1) + QLatin1Char(' ') + h.left(colon));
                }
            }
            container.insert(QStringLiteral("Hosts"), QJsonArray::fromStringList(hosts));
        } else if (k == QLatin1String("dns")) {
            container.insert(QStringLiteral("DNSConfig"),
                             QJsonObject{{QStringLiteral("Nameservers"),
                                          QJsonArray::fromStringList(strings(f.value, fw))}});
        } else if (k == QLatin1String("logging")) {
            const QList<Entry> ls = entries(f.value, fw);
            checkKeys(ls, {QStringLiteral("driver"), QStringLiteral("options")}, fw);
            QJsonObject driver;
            for (const Entry &l : ls) {
                if (l.key == QLatin1String("driver"))
                    driver.insert(QStringLiteral("Name"), str(l.value, fw + QStringLiteral(".driver")));
                else
                    driver.insert(QStringLiteral("Options"), labels(l.value, fw + QStringLiteral(".options")));
            }
            task.insert(QStringLiteral("LogDriver"), driver);
        } else if (k == QLatin1String("deploy")) {
            hasDeploy = true;
            deploy(f.value, fw, spec, task);
        }
    }
    if (image.isEmpty())
        fail(e.keyNode, QStringLiteral("%1 has no image").arg(what));
    container.insert(QStringLiteral("Image"), image);
    QJsonObject serviceLabels = spec.value(QStringLiteral("Labels")).toObject();
    serviceLabels.insert(ImageLabel, image);
    spec.insert(QStringLiteral("Labels"), serviceLabels);
    if (!hasDeploy)
        spec.insert(QStringLiteral("Mode"),
                    QJsonObject{{QStringLiteral("Replicated"), QJsonObject{}}});
    if (!hasNetworks) {
        m_needsDefaultNetwork = true;
        const QString target = m_stack + QStringLiteral("_default");
        networks.append(QJsonObject{{QStringLiteral("Target"), target},
                                    {QStringLiteral("Aliases"), QJsonArray{e.key}}});
    }
    task.insert(QStringLiteral("ContainerSpec"), container);
    task.insert(QStringLiteral("Networks"), networks);
    spec.insert(QStringLiteral("TaskTemplate"), task);
    s.spec = spec;
    return s;
}

StackPlan Reader::read(const YAML::Node &root)
{
    StackPlan plan;
    plan.stack = m_stack;
    plan.file = m_path;
    const QList<Entry> top = entries(root, QStringLiteral("the stack file"));
    checkKeys(top,
              {QStringLiteral("version"), QStringLiteral("services"), QStringLiteral("networks"),
               QStringLiteral("volumes"), QStringLiteral("secrets"), QStringLiteral("configs")},
              QStringLiteral("(top level)"));
    auto section = [&](const QString &name) -> const Entry * {
        for (const Entry &e : top) {
            if (e.key == name)
                return &e;
        }
        return nullptr;
    };
    if (const Entry *v = section(QStringLiteral("version"))) {
        const QString version = str(v->value, QStringLiteral("version"));
        if (!version.startsWith(QLatin1Char('3')))
            fail(v->value, QStringLiteral("version is '%1'; a Swarm stack file is version 3.x").arg(version));
    }
    // Declarations first: services refer to them by key.
    if (const Entry *s = section(QStringLiteral("networks")); s && !s->value.IsNull()) {
        for (const Entry &e : entries(s->value, QStringLiteral("networks"))) {
            StackObject n = network(e);
            m_networkNames.insert(n.key, n.name);
            plan.networks.append(n);
        }
    }
    if (const Entry *s = section(QStringLiteral("volumes")); s && !s->value.IsNull()) {
        for (const Entry &e : entries(s->value, QStringLiteral("volumes")))
            volume(e);
    }
    for (const QString &kind : {QStringLiteral("secrets"), QStringLiteral("configs")}) {
        if (const Entry *s = section(kind); s && !s->value.IsNull()) {
            for (const Entry &e : entries(s->value, kind)) {
                StackObject o = fileObject(e, kind);
                (kind == QLatin1String("secrets") ? m_secretNames : m_configNames).insert(o.key, o.name);
                (kind == QLatin1String("secrets") ? plan.secrets : plan.configs).append(o);
            }
        }
    }
    const Entry *services = section(QStringLiteral("services"));
    if (!services || services->value.IsNull())
        fail(root, QStringLiteral("the stack file has no services"));
    for (const Entry &e : entries(services->value, QStringLiteral("services")))
        plan.services.append(service(e));
    if (m_needsDefaultNetwork && !m_networkNames.contains(QStringLiteral("default"))) {
        StackObject n;
        n.key = QStringLiteral("default");
        n.name = m_stack + QStringLiteral("_default");
        n.body = networkBody(n.name, QStringLiteral("overlay"), false, false,
                             QJsonObject{{NamespaceLabel, m_stack}}, {});
        plan.networks.append(n);
    }
    // The docker CLI creates networks in name order.
    std::sort(plan.networks.begin(), plan.networks.end(),
              [](const StackObject &a, const StackObject &b) { return a.name < b.name; });
    return plan;
}

} // namespace

Result<StackPlan> readBytes(const QByteArray &yaml, const QString &path, const QString &stack,
                            const QHash<QString, QString> &environment)
{
    static const QRegularExpression stackName(QStringLiteral("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"));
    if (!stackName.match(stack).hasMatch())
        return Error{QStringLiteral("'%1' is not a stack name (letters, digits, _ . -; starting "
                                    "with a letter or digit)")
                         .arg(stack),
                     {}, 0, 0};
    if (yaml.contains('\0'))
        return Error{QStringLiteral("this is not a text file (it contains NUL bytes)"), path, 0, 0};
    try {
        const YAML::Node root = YAML::Load(yaml.toStdString());
        if (!root.IsMap())
            return Error{QStringLiteral("a stack file is a mapping with services:, found %1")
                             .arg(kindName(root)),
                         path, 1, 1};
        Reader reader(path, stack, environment);
        return reader.read(root);
    } catch (const ReadError &e) {
        return Error{e.message, path, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                     e.mark.column >= 0 ? e.mark.column + 1 : 0};
    } catch (const YAML::Exception &e) {
        return Error{QStringLiteral("not valid YAML: %1").arg(qs(e.msg)), path,
                     e.mark.line >= 0 ? e.mark.line + 1 : 0,
                     e.mark.column >= 0 ? e.mark.column + 1 : 0};
    }
}

Result<StackPlan> read(const QString &path, const QString &stack,
                       const QHash<QString, QString> &environment)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return Error{QStringLiteral("cannot read the stack file: %1").arg(f.errorString()), path, 0, 0};
    return readBytes(f.readAll(), QFileInfo(path).absoluteFilePath(), stack, environment);
}

QHash<QString, QString> processEnvironment()
{
    QHash<QString, QString> out;
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const QStringList keys = env.keys();
    for (const QString &k : keys)
        out.insert(k, env.value(k));
    return out;
}

qint64 parseDuration(const QString &text)
{
    static const QRegularExpression part(QStringLiteral("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)"));
    if (text.isEmpty())
        return -1;
    if (text == QLatin1String("0"))
        return 0;
    double total = 0;
    qsizetype at = 0;
    auto it = part.globalMatch(text);
    while (it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        if (m.capturedStart() != at)
            return -1;
        at = m.capturedEnd();
        const double v = m.captured(1).toDouble();
        const QString unit = m.captured(2);
        double scale = 1;
        if (unit == QLatin1String("us") || unit == QStringLiteral("µs"))
            scale = 1e3;
        else if (unit == QLatin1String("ms"))
            scale = 1e6;
        else if (unit == QLatin1String("s"))
            scale = 1e9;
        else if (unit == QLatin1String("m"))
            scale = 60e9;
        else if (unit == QLatin1String("h"))
            scale = 3600e9;
        total += v * scale;
    }
    if (at != text.size() || total > 9.2e18)
        return -1;
    return qint64(std::llround(total));
}

qint64 parseBytes(const QString &text)
{
    static const QRegularExpression form(
        QStringLiteral("^(\\d+(?:\\.\\d+)?)\\s*([kKmMgGtTpP])?[iI]?[bB]?$"));
    const QRegularExpressionMatch m = form.match(text.trimmed());
    if (!m.hasMatch())
        return -1;
    double v = m.captured(1).toDouble();
    const QString unit = m.captured(2).toLower();
    const QString units = QStringLiteral("kmgtp");
    if (!unit.isEmpty())
        v *= std::pow(1024.0, double(units.indexOf(unit) + 1));
    if (v > 9.2e18)
        return -1;
    return qint64(v);
}

bool splitWords(const QString &text, QStringList *words)
{
    words->clear();
    QString word;
    bool inWord = false;
    QChar quote;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (!quote.isNull()) {
            if (c == quote) {
                quote = QChar();
            } else if (c == QLatin1Char('\\') && quote == QLatin1Char('"') && i + 1 < text.size() &&
                       QStringLiteral("\\\"$`").contains(text.at(i + 1))) {
                word += text.at(++i);
            } else {
                word += c;
            }
            continue;
        }
        if (c.isSpace()) {
            if (inWord)
                words->append(word);
            word.clear();
            inWord = false;
            continue;
        }
        inWord = true;
        if (c == QLatin1Char('\'') || c == QLatin1Char('"'))
            quote = c;
        else if (c == QLatin1Char('\\') && i + 1 < text.size())
            word += text.at(++i);
        else
            word += c;
    }
    if (!quote.isNull())
        return false;
    if (inWord)
        words->append(word);
    return true;
}

} // namespace StackFile
} // namespace Pilothouse
