#include "app/deploy/acmecheck.h"

#include <QJsonArray>
#include <QRegularExpression>

namespace Pilothouse::AcmeCheck {
namespace {

QJsonObject containerSpec(const QJsonObject &serviceSpec)
{
    return serviceSpec.value(QStringLiteral("TaskTemplate"))
        .toObject()
        .value(QStringLiteral("ContainerSpec"))
        .toObject();
}

QStringList commandLine(const QJsonObject &serviceSpec)
{
    const QJsonObject c = containerSpec(serviceSpec);
    QStringList words;
    for (const QString &key : {QStringLiteral("Command"), QStringLiteral("Args")})
        for (const QJsonValue &v : c.value(key).toArray())
            words.append(v.toString());
    return words;
}

QHash<QString, QString> environment(const QJsonObject &serviceSpec)
{
    QHash<QString, QString> env;
    for (const QJsonValue &v : containerSpec(serviceSpec).value(QStringLiteral("Env")).toArray()) {
        const QString entry = v.toString();
        const qsizetype eq = entry.indexOf(u'=');
        if (eq > 0)
            env.insert(entry.left(eq), entry.mid(eq + 1));
    }
    return env;
}

// Where the service's secrets and mounts put files: path -> what provides it.
QHash<QString, QString> providedPaths(const QJsonObject &serviceSpec)
{
    QHash<QString, QString> out;
    const QJsonObject c = containerSpec(serviceSpec);
    for (const QJsonValue &v : c.value(QStringLiteral("Secrets")).toArray()) {
        const QJsonObject s = v.toObject();
        QString target =
            s.value(QStringLiteral("File")).toObject().value(QStringLiteral("Name")).toString();
        if (!target.startsWith(u'/'))
            target = QStringLiteral("/run/secrets/") + target;
        out.insert(
            target,
            QStringLiteral("secret %1").arg(s.value(QStringLiteral("SecretName")).toString()));
    }
    for (const QJsonValue &v : c.value(QStringLiteral("Mounts")).toArray()) {
        const QJsonObject m = v.toObject();
        out.insert(m.value(QStringLiteral("Target")).toString(),
                   QStringLiteral("%1 %2").arg(m.value(QStringLiteral("Type")).toString(),
                                               m.value(QStringLiteral("Source")).toString()));
    }
    return out;
}

// The mount that holds `path`, if any.
QString mountOf(const QJsonObject &serviceSpec, const QString &path)
{
    for (const QJsonValue &v :
         containerSpec(serviceSpec).value(QStringLiteral("Mounts")).toArray()) {
        const QJsonObject m = v.toObject();
        const QString target = m.value(QStringLiteral("Target")).toString();
        if (!target.isEmpty() && (path == target || path.startsWith(target + u'/')))
            return QStringLiteral("%1 %2").arg(m.value(QStringLiteral("Type")).toString(),
                                               m.value(QStringLiteral("Source")).toString());
    }
    return {};
}

// A credential variable: set with a value, or as NAME_FILE naming a path a
// secret or mount provides. Empty when neither; `how` says which.
bool credential(const QJsonObject &spec, const QStringList &names, QString *how, QString *problem)
{
    const QHash<QString, QString> env = environment(spec);
    const QHash<QString, QString> provided = providedPaths(spec);
    for (const QString &name : names) {
        if (!env.value(name).trimmed().isEmpty()) {
            *how = name;
            return true;
        }
        const QString file = env.value(name + QStringLiteral("_FILE")).trimmed();
        if (file.isEmpty())
            continue;
        const QString source = provided.value(file);
        if (source.isEmpty()) {
            *problem = QStringLiteral(
                           "%1_FILE is %2, but no secret or mount of the service puts a file there")
                           .arg(name, file);
            return false;
        }
        *how = QStringLiteral("%1_FILE (%2)").arg(name, source);
        return true;
    }
    return false;
}

struct Token
{
    bool ok = false;
    QString how;
    QString problem;
};

Token cloudflareToken(const QJsonObject &spec)
{
    Token t;
    QString problem;
    if (credential(spec,
                   {QStringLiteral("CF_DNS_API_TOKEN"), QStringLiteral("CLOUDFLARE_DNS_API_TOKEN")},
                   &t.how, &problem)) {
        t.ok = true;
        return t;
    }
    QString email, key;
    QString emailProblem, keyProblem;
    if (credential(spec, {QStringLiteral("CF_API_EMAIL"), QStringLiteral("CLOUDFLARE_EMAIL")},
                   &email, &emailProblem) &&
        credential(spec, {QStringLiteral("CF_API_KEY"), QStringLiteral("CLOUDFLARE_API_KEY")}, &key,
                   &keyProblem)) {
        t.ok = true;
        t.how = email + QStringLiteral(" + ") + key +
                QStringLiteral(" (the global API key: a scoped CF_DNS_API_TOKEN is safer)");
        return t;
    }
    t.problem =
        !problem.isEmpty()      ? problem
        : !keyProblem.isEmpty() ? keyProblem
        : !emailProblem.isEmpty()
            ? emailProblem
            : QStringLiteral("neither CF_DNS_API_TOKEN nor CF_API_EMAIL with CF_API_KEY is set "
                             "(as a value or as <NAME>_FILE)");
    return t;
}

} // namespace

QList<Resolver> resolvers(const QJsonObject &serviceSpec)
{
    static const QRegularExpression flag(
        QStringLiteral("^--certificatesresolvers\\.([^.=]+)\\.acme\\.([A-Za-z.]+)(?:=(.*))?$"),
        QRegularExpression::CaseInsensitiveOption);
    QList<Resolver> out;
    auto resolver = [&out](const QString &name) -> Resolver & {
        for (Resolver &r : out)
            if (r.name == name)
                return r;
        out.append(Resolver{name, {}, {}, {}, {}});
        return out.last();
    };
    for (const QString &word : commandLine(serviceSpec)) {
        const QRegularExpressionMatch m = flag.match(word);
        if (!m.hasMatch())
            continue;
        Resolver &r = resolver(m.captured(1));
        const QString key = m.captured(2).toLower();
        const QString value = m.captured(3);
        if (key == u"email")
            r.email = value;
        else if (key == u"storage")
            r.storage = value;
        else if (key == u"dnschallenge.provider") {
            r.challenge = QStringLiteral("dns");
            r.provider = value;
        } else if (key == u"dnschallenge" && r.challenge.isEmpty())
            r.challenge = QStringLiteral("dns");
        else if (key.startsWith(QLatin1String("tlschallenge")))
            r.challenge = QStringLiteral("tls");
        else if (key.startsWith(QLatin1String("httpchallenge")))
            r.challenge = QStringLiteral("http");
    }
    return out;
}

QStringList problems(const QJsonObject &serviceSpec, QStringList *warnings)
{
    QStringList out;
    QStringList later;
    for (const Resolver &r : resolvers(serviceSpec)) {
        if (r.challenge == u"dns" &&
            r.provider.compare(QLatin1String("cloudflare"), Qt::CaseInsensitive) == 0) {
            const Token t = cloudflareToken(serviceSpec);
            if (!t.ok)
                out.append(QStringLiteral("ACME resolver %1 uses the Cloudflare DNS challenge, but "
                                          "%2: no certificate "
                                          "can be issued or renewed")
                               .arg(r.name, t.problem));
        } else if (r.challenge == u"dns" && r.provider.isEmpty()) {
            out.append(QStringLiteral("ACME resolver %1 uses the DNS challenge without a provider")
                           .arg(r.name));
        }
        if (r.storage.isEmpty())
            later.append(
                QStringLiteral(
                    "ACME resolver %1 has no storage: its certificates are lost at every restart "
                    "and Let's Encrypt's rate limits follow")
                    .arg(r.name));
        else if (mountOf(serviceSpec, r.storage).isEmpty())
            later.append(
                QStringLiteral("ACME resolver %1 keeps %2 outside every mount of the service: its "
                               "certificates "
                               "are lost at every restart and Let's Encrypt's rate limits follow")
                    .arg(r.name, r.storage));
        if (r.email.isEmpty())
            later.append(
                QStringLiteral("ACME resolver %1 has no email: expiry notices reach nobody")
                    .arg(r.name));
    }
    if (warnings)
        *warnings = later;
    return out;
}

QStringList describe(const QJsonObject &serviceSpec)
{
    QStringList out;
    for (const Resolver &r : resolvers(serviceSpec)) {
        QString line =
            QStringLiteral("%1: %2 challenge")
                .arg(r.name, r.challenge.isEmpty() ? QStringLiteral("no") : r.challenge.toUpper());
        if (!r.provider.isEmpty())
            line += QStringLiteral(" via ") + r.provider;
        if (r.provider.compare(QLatin1String("cloudflare"), Qt::CaseInsensitive) == 0) {
            const Token t = cloudflareToken(serviceSpec);
            line += t.ok ? QStringLiteral(", token from ") + t.how
                         : QStringLiteral(", NO TOKEN (%1)").arg(t.problem);
        }
        if (!r.storage.isEmpty()) {
            const QString mount = mountOf(serviceSpec, r.storage);
            line += QStringLiteral(", storage %1 %2")
                        .arg(r.storage, mount.isEmpty() ? QStringLiteral("(not on a mount)")
                                                        : QStringLiteral("on ") + mount);
        }
        out.append(line);
    }
    return out;
}

} // namespace Pilothouse::AcmeCheck
