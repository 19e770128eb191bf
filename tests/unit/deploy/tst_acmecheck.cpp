// Traefik's ACME resolvers read from the project's own Traefik stack file
// (deploy-stacks/pilothouse-traefik.yml, through the real stack reader) and
// from variants of it that break one thing each.

#include "app/deploy/acmecheck.h"
#include "app/deploy/stackfile.h"

#include <QFile>
#include <QTest>

using namespace Pilothouse;

namespace {

const QString TraefikFile =
    QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/pilothouse-traefik.yml");

// The file is an override merged over pilothouse-stack.yml: its traefik
// service alone, with the network the base file declares.
QByteArray traefikYaml()
{
    QFile f(TraefikFile);
    QByteArray yaml = f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    const qsizetype overrides = yaml.indexOf("\n  app:\n");
    const qsizetype volumes = yaml.indexOf("\nvolumes:\n");
    if (overrides < 0 || volumes < overrides)
        qFatal("the Traefik stack file changed its shape");
    yaml.remove(overrides, volumes - overrides);
    yaml.replace("\nvolumes:\n", "\nnetworks:\n  postgres-network: {external: true}\nvolumes:\n");
    return yaml;
}

// The traefik service's spec of the file with `from` replaced by `to`.
QJsonObject traefikSpec(const QByteArray &from = {}, const QByteArray &to = {})
{
    QByteArray yaml = traefikYaml();
    if (!from.isEmpty()) {
        if (!yaml.contains(from))
            qFatal("the Traefik stack file no longer contains %s", from.constData());
        yaml.replace(from, to);
    }
    const Result<StackPlan> plan =
        StackFile::readBytes(yaml, TraefikFile, QStringLiteral("pilothouse"), {});
    if (!plan)
        qFatal("%s", qPrintable(plan.error().toString()));
    const StackService *s = plan.value().service(QStringLiteral("traefik"));
    return s ? s->spec : QJsonObject{};
}

} // namespace

class TestAcmeCheck final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void theProjectsFileIsSound()
    {
        const QJsonObject spec = traefikSpec();
        const auto resolvers = AcmeCheck::resolvers(spec);
        QCOMPARE(resolvers.size(), 1);
        QCOMPARE(resolvers.constFirst().name, QStringLiteral("cloudflare"));
        QCOMPARE(resolvers.constFirst().challenge, QStringLiteral("dns"));
        QCOMPARE(resolvers.constFirst().provider, QStringLiteral("cloudflare"));
        QCOMPARE(resolvers.constFirst().storage, QStringLiteral("/letsencrypt/acme.json"));
        QStringList warnings;
        QCOMPARE(AcmeCheck::problems(spec, &warnings), QStringList{});
        QCOMPARE(warnings, QStringList{});
        const QString line = AcmeCheck::describe(spec).value(0);
        QVERIFY2(line.contains(
                     u"token from CF_DNS_API_TOKEN_FILE (secret cf_dns_api_token)") &&
                     line.contains(u"on volume pilothouse_traefik-acme"),
                 qPrintable(line));
    }

    void missingTokenStopsIt()
    {
        const QJsonObject spec =
            traefikSpec("CF_DNS_API_TOKEN_FILE: /run/secrets/cf_dns_api_token", "TZ: UTC");
        const QStringList p = AcmeCheck::problems(spec);
        QCOMPARE(p.size(), 1);
        QVERIFY2(p.constFirst().contains(
                     u"ACME resolver cloudflare uses the Cloudflare DNS challenge") &&
                     p.constFirst().contains(
                         u"neither CF_DNS_API_TOKEN nor CF_API_EMAIL with CF_API_KEY"),
                 qPrintable(p.constFirst()));
        QVERIFY(AcmeCheck::describe(spec).value(0).contains(u"NO TOKEN"));
    }

    void tokenFileNoSecretProvides()
    {
        const QStringList p =
            AcmeCheck::problems(traefikSpec("CF_DNS_API_TOKEN_FILE: /run/secrets/cf_dns_api_token",
                                            "CF_DNS_API_TOKEN_FILE: /run/secrets/cf_token"));
        QCOMPARE(p.size(), 1);
        QVERIFY2(p.constFirst().contains(
                     u"CF_DNS_API_TOKEN_FILE is /run/secrets/cf_token, but no secret or mount"),
                 qPrintable(p.constFirst()));
    }

    void otherCredentialsAreAccepted()
    {
        QVERIFY(
            AcmeCheck::problems(traefikSpec("CF_DNS_API_TOKEN_FILE: /run/secrets/cf_dns_api_token",
                                            "CF_DNS_API_TOKEN: abc123"))
                .isEmpty());
        const QJsonObject global =
            traefikSpec("CF_DNS_API_TOKEN_FILE: /run/secrets/cf_dns_api_token",
                        "CF_API_EMAIL: ops@example.org\n      CF_API_KEY_FILE: "
                        "/run/secrets/cf_dns_api_token");
        QVERIFY(AcmeCheck::problems(global).isEmpty());
        QVERIFY(AcmeCheck::describe(global).value(0).contains(u"global API key"));
        // An email alone is not enough.
        QCOMPARE(
            AcmeCheck::problems(traefikSpec("CF_DNS_API_TOKEN_FILE: /run/secrets/cf_dns_api_token",
                                            "CF_API_EMAIL: ops@example.org"))
                .size(),
            1);
    }

    void storageOffAMountIsAWarning()
    {
        QStringList warnings;
        const QStringList p = AcmeCheck::problems(
            traefikSpec("      - traefik-acme:/letsencrypt\n", QByteArray()), &warnings);
        QVERIFY(p.isEmpty());
        QCOMPARE(warnings.size(), 1);
        QVERIFY2(
            warnings.constFirst().contains(u"keeps /letsencrypt/acme.json outside every mount"),
            qPrintable(warnings.constFirst()));
    }

    void aServiceWithoutAcmeHasNothingToSay()
    {
        QVERIFY(AcmeCheck::resolvers(QJsonObject{}).isEmpty());
        QVERIFY(AcmeCheck::problems(QJsonObject{}).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestAcmeCheck)
#include "tst_acmecheck.moc"
