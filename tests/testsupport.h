#pragma once
// Helpers shared by the Qt Test suites; used on the test's main thread only.

#include "models/result.h"

#include <QByteArray>
#include <QFile>
#include <QTest>

#include <optional>

namespace Pilothouse::TestSupport {

// A file under tests/fixtures/<area>/, captured from the real program (each
// area's README says how). A missing fixture stops the run: it is a broken checkout.
inline QByteArray fixture(const char *area, const char *name)
{
    QFile f(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/") + QLatin1String(area) + u'/' +
            QLatin1String(name));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing fixture %s/%s", area, name);
    return f.readAll();
}

// Runs one asynchronous call and waits for its callback; nullopt when none
// came within the time.
template<typename T, typename Call> std::optional<Result<T>> await(Call call, int timeoutMs = 15000)
{
    std::optional<Result<T>> out;
    call([&out](Result<T> r) { out.emplace(std::move(r)); });
    (void)QTest::qWaitFor([&out] { return out.has_value(); }, timeoutMs);
    return out;
}

// Why an awaited result is not a value, for QVERIFY2.
inline const char *why(const auto &r)
{
    static QByteArray text;
    text = !r ? QByteArray("no answer in time")
              : (r->ok() ? QByteArray() : r->error().message.toUtf8());
    return text.constData();
}

} // namespace Pilothouse::TestSupport

#define REQUIRE_OK(r) QVERIFY2((r) && (r)->ok(), Pilothouse::TestSupport::why(r))
