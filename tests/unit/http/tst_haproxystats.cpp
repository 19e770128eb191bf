// HAProxy stats CSV as the lab's HAProxy 2.6 served it while two app tasks
// were failing their checks (tests/fixtures/http/README.md).

#include "app/connectors/http/haproxystats.h"

#include <QFile>
#include <QTest>

#include "tests/testsupport.h"

using namespace Pilothouse;

namespace {

QByteArray fixture(const char *name)
{
    return TestSupport::fixture("http", name);
}

const HaproxyStatsRow *find(const QList<HaproxyStatsRow> &rows, const char *proxy, const char *name)
{
    for (const HaproxyStatsRow &r : rows) {
        if (r.proxy == QLatin1String(proxy) && r.name == QLatin1String(name))
            return &r;
    }
    return nullptr;
}

} // namespace

class TestHaproxyStats final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rows()
    {
        const auto parsed = HaproxyStats::parseCsv(fixture("haproxy-stats-degraded.csv"));
        QVERIFY2(parsed, parsed ? "" : qPrintable(parsed.error().message));
        const QList<HaproxyStatsRow> &rows = parsed.value();
        QCOMPARE(rows.size(), 15);

        const HaproxyStatsRow *https = find(rows, "https", "FRONTEND");
        QVERIFY(https);
        QCOMPARE(https->type, HaproxyStatsRow::Type::Frontend);
        QCOMPARE(https->status, QStringLiteral("OPEN"));
        QVERIFY(https->isUp());

        const HaproxyStatsRow *down = find(rows, "app", "app1");
        QVERIFY(down);
        QCOMPARE(down->type, HaproxyStatsRow::Type::Server);
        QCOMPARE(down->status, QStringLiteral("DOWN"));
        QVERIFY(!down->isUp());
        QCOMPARE(down->checkStatus, QStringLiteral("* L7TOUT"));
        QCOMPARE(down->checkDurationMs, 2000);
        QCOMPARE(down->checkDescription, QStringLiteral("Layer7 timeout"));
        QCOMPARE(down->address, QStringLiteral("10.215.1.42:8080"));

        const HaproxyStatsRow *up = find(rows, "app", "app2");
        QVERIFY(up);
        QVERIFY(up->isUp());
        QCOMPARE(up->checkStatus, QStringLiteral("L7OK"));
        QCOMPARE(up->checkCode, 200);
        QCOMPARE(up->checkDurationMs, 788);

        const HaproxyStatsRow *slot = find(rows, "app", "app9");
        QVERIFY(slot);
        QCOMPARE(slot->status, QStringLiteral("MAINT (resolution)"));
        QVERIFY(slot->isUnusedSlot());
        QVERIFY(!down->isUnusedSlot());

        const HaproxyStatsRow *backend = find(rows, "app", "BACKEND");
        QVERIFY(backend);
        QCOMPARE(backend->type, HaproxyStatsRow::Type::Backend);
        QCOMPARE(backend->activeServers, 6);
    }

    void routes()
    {
        const auto rows = HaproxyStats::parseCsv(fixture("haproxy-stats-degraded.csv"));
        QVERIFY(rows);
        const QList<ProxyRoute> routes = HaproxyStats::routes(
            rows.value(), {{QStringLiteral("app"), QStringLiteral("app.pilothouse.lab")}});
        QCOMPARE(routes.size(), 2); // app and unknown_host; frontends are not routes
        const ProxyRoute &app = routes.at(0);
        QCOMPARE(app.service, QStringLiteral("app"));
        QCOMPARE(app.host, QStringLiteral("app.pilothouse.lab"));
        QCOMPARE(app.backends.size(), 8); // 10 template slots, 2 unused
        int up = 0;
        QStringList down;
        for (const ProxyBackend &b : app.backends) {
            if (b.up)
                ++up;
            else
                down.append(b.name);
        }
        QCOMPARE(up, 6);
        QCOMPARE(down, (QStringList{QStringLiteral("app1"), QStringLiteral("app8")}));
        QCOMPARE(app.backends.at(0).detail,
                 QStringLiteral("DOWN, * L7TOUT in 2000 ms, Layer7 timeout, 10.215.1.42:8080"));
        QCOMPARE(app.backends.at(1).detail,
                 QStringLiteral("UP, L7OK 200 in 788 ms, Layer7 check passed, 10.215.1.41:8080"));
        QVERIFY(routes.at(1).backends.isEmpty());
        QVERIFY(routes.at(1).host.isEmpty());

        const QList<ProxyRoute> all = HaproxyStats::routes(rows.value(), {}, true);
        QCOMPARE(all.at(0).backends.size(), 10);
    }

    void healthy()
    {
        const auto rows = HaproxyStats::parseCsv(fixture("haproxy-stats-healthy.csv"));
        QVERIFY(rows);
        const QList<ProxyRoute> routes = HaproxyStats::routes(rows.value(), {});
        QCOMPARE(routes.at(0).service, QStringLiteral("app"));
        QCOMPARE(routes.at(0).backends.size(), 6); // the six app replicas
        for (const ProxyBackend &b : routes.at(0).backends)
            QVERIFY2(b.up, qPrintable(b.name + u' ' + b.detail));
    }

    void notCsv()
    {
        auto r = HaproxyStats::parseCsv("<html><body>Statistics Report</body></html>");
        QVERIFY(!r);
        QVERIFY2(r.error().message.contains(QStringLiteral(";csv")), qPrintable(r.error().message));
        r = HaproxyStats::parseCsv("# pxname,svname,type\nx,y,0\n");
        QVERIFY(!r);
        QVERIFY(r.error().message.contains(QStringLiteral("\"status\"")));
        r = HaproxyStats::parseCsv("# pxname,svname,status,type\n");
        QVERIFY(r);
        QVERIFY(r.value().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestHaproxyStats)
#include "tst_haproxystats.moc"
