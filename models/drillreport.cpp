#include "models/drillreport.h"

#include <QJsonArray>

#include <cmath>

namespace Pilothouse {

namespace {

// Seconds on the report's axis, to the millisecond: what the monitor and the
// writers can resolve, and short enough to read in the JSON.
double ms(double seconds)
{
    return std::round(seconds * 1000.0) / 1000.0;
}

QString isoMs(const QDateTime &at)
{
    return at.isValid() ? at.toUTC().toString(Qt::ISODateWithMs) : QString();
}

} // namespace

const DrillReport::Phase *DrillReport::phase(const QString &name) const
{
    for (const Phase &p : phases) {
        if (p.name == name)
            return &p;
    }
    return nullptr;
}

const DrillReport::Writer *DrillReport::writer(const QString &path) const
{
    for (const Writer &w : writers) {
        if (w.path == path)
            return &w;
    }
    return nullptr;
}

QJsonObject DrillReport::toJson() const
{
    QJsonObject out;
    out.insert(QStringLiteral("scenario"), scenario);
    out.insert(QStringLiteral("reason"), reason);
    out.insert(QStringLiteral("started_at"), isoMs(startedAt));
    out.insert(QStringLiteral("outcome"), outcome);
    out.insert(QStringLiteral("error"), error);
    out.insert(QStringLiteral("rto_seconds"), ms(rtoSeconds));
    out.insert(QStringLiteral("rto_pgpool_seconds"), ms(rtoPgpoolSeconds));
    out.insert(QStringLiteral("rto_app_seconds"), ms(rtoAppSeconds));
    out.insert(QStringLiteral("rpo_writes"), rpoWrites);
    out.insert(QStringLiteral("two_primaries_seconds"), ms(twoPrimariesSeconds));
    out.insert(QStringLiteral("healthy_after"), healthyAfter);
    out.insert(QStringLiteral("healthy_after_seconds"), ms(healthyAfterSeconds));
    out.insert(QStringLiteral("old_primary"), oldPrimary);
    out.insert(QStringLiteral("new_primary"), newPrimary);
    out.insert(QStringLiteral("old_primary_writes_after_promotion"),
               oldPrimaryWritesAfterPromotion);

    out.insert(QStringLiteral("fault"),
               QJsonObject{{QStringLiteral("kind"), fault.kind},
                           {QStringLiteral("target"), fault.target},
                           {QStringLiteral("injected_at"), ms(fault.injectedAt)},
                           {QStringLiteral("restored_at"), ms(fault.restoredAt)}});

    QJsonArray phaseArray;
    for (const Phase &p : phases) {
        phaseArray.append(QJsonObject{{QStringLiteral("name"), p.name},
                                      {QStringLiteral("started_at"), ms(p.startedAt)},
                                      {QStringLiteral("seconds"), ms(p.seconds)}});
    }
    out.insert(QStringLiteral("phases"), phaseArray);

    QJsonArray eventArray;
    for (const Event &e : events) {
        eventArray.append(QJsonObject{{QStringLiteral("at"), ms(e.at)},
                                      {QStringLiteral("layer"), e.layer},
                                      {QStringLiteral("text"), e.text}});
    }
    out.insert(QStringLiteral("events"), eventArray);

    QJsonArray writerArray;
    for (const Writer &w : writers) {
        QJsonArray gapArray;
        for (const Gap &g : w.gaps) {
            gapArray.append(QJsonObject{{QStringLiteral("from"), ms(g.from)},
                                        {QStringLiteral("to"), ms(g.to)}});
        }
        writerArray.append(QJsonObject{{QStringLiteral("path"), w.path},
                                       {QStringLiteral("attempts"), w.attempts},
                                       {QStringLiteral("acknowledged"), w.acknowledged},
                                       {QStringLiteral("failed"), w.failed},
                                       {QStringLiteral("lost"), w.lost},
                                       {QStringLiteral("write_gap_seconds"), ms(w.writeGapSeconds)},
                                       {QStringLiteral("gaps"), gapArray},
                                       {QStringLiteral("counted_in_rto"), w.countedInRto},
                                       {QStringLiteral("note"), w.note}});
    }
    out.insert(QStringLiteral("writers"), writerArray);

    out.insert(
        QStringLiteral("prediction"),
        QJsonObject{{QStringLiteral("seconds"), ms(prediction.seconds)},
                    {QStringLiteral("slowest_layer"), prediction.slowestLayer},
                    {QStringLiteral("lines"), QJsonArray::fromStringList(prediction.lines)}});
    out.insert(QStringLiteral("runbook"), runbook);
    return out;
}

DrillReport DrillReport::fromJson(const QJsonObject &json)
{
    DrillReport r;
    r.scenario = json.value(QStringLiteral("scenario")).toString();
    r.reason = json.value(QStringLiteral("reason")).toString();
    r.startedAt = QDateTime::fromString(json.value(QStringLiteral("started_at")).toString(),
                                        Qt::ISODateWithMs);
    if (r.startedAt.isValid())
        r.startedAt = r.startedAt.toUTC();
    r.outcome = json.value(QStringLiteral("outcome")).toString();
    r.error = json.value(QStringLiteral("error")).toString();
    r.rtoSeconds = json.value(QStringLiteral("rto_seconds")).toDouble(-1);
    r.rtoPgpoolSeconds = json.value(QStringLiteral("rto_pgpool_seconds")).toDouble(-1);
    r.rtoAppSeconds = json.value(QStringLiteral("rto_app_seconds")).toDouble(-1);
    r.rpoWrites = json.value(QStringLiteral("rpo_writes")).toInt(-1);
    r.twoPrimariesSeconds = json.value(QStringLiteral("two_primaries_seconds")).toDouble(0);
    r.healthyAfter = json.value(QStringLiteral("healthy_after")).toBool(false);
    r.healthyAfterSeconds = json.value(QStringLiteral("healthy_after_seconds")).toDouble(-1);
    r.oldPrimary = json.value(QStringLiteral("old_primary")).toString();
    r.newPrimary = json.value(QStringLiteral("new_primary")).toString();
    r.oldPrimaryWritesAfterPromotion =
        json.value(QStringLiteral("old_primary_writes_after_promotion")).toInt(-1);
    r.oldPrimaryWritesWhileIsolated =
        json.value(QStringLiteral("old_primary_writes_while_isolated")).toInt(-1);

    const QJsonObject fault = json.value(QStringLiteral("fault")).toObject();
    r.fault.kind = fault.value(QStringLiteral("kind")).toString();
    r.fault.target = fault.value(QStringLiteral("target")).toString();
    r.fault.injectedAt = fault.value(QStringLiteral("injected_at")).toDouble(-1);
    r.fault.restoredAt = fault.value(QStringLiteral("restored_at")).toDouble(-1);

    const QJsonArray phases = json.value(QStringLiteral("phases")).toArray();
    for (const QJsonValue &v : phases) {
        const QJsonObject o = v.toObject();
        r.phases.append(Phase{o.value(QStringLiteral("name")).toString(),
                              o.value(QStringLiteral("started_at")).toDouble(0),
                              o.value(QStringLiteral("seconds")).toDouble(0)});
    }
    const QJsonArray events = json.value(QStringLiteral("events")).toArray();
    for (const QJsonValue &v : events) {
        const QJsonObject o = v.toObject();
        r.events.append(Event{o.value(QStringLiteral("at")).toDouble(0),
                              o.value(QStringLiteral("layer")).toString(),
                              o.value(QStringLiteral("text")).toString()});
    }
    const QJsonArray writers = json.value(QStringLiteral("writers")).toArray();
    for (const QJsonValue &v : writers) {
        const QJsonObject o = v.toObject();
        Writer w;
        w.path = o.value(QStringLiteral("path")).toString();
        w.attempts = o.value(QStringLiteral("attempts")).toInt(0);
        w.acknowledged = o.value(QStringLiteral("acknowledged")).toInt(0);
        w.failed = o.value(QStringLiteral("failed")).toInt(0);
        w.lost = o.value(QStringLiteral("lost")).toInt(0);
        w.writeGapSeconds = o.value(QStringLiteral("write_gap_seconds")).toDouble(0);
        const QJsonArray gaps = o.value(QStringLiteral("gaps")).toArray();
        for (const QJsonValue &g : gaps) {
            const QJsonObject go = g.toObject();
            w.gaps.append(Gap{go.value(QStringLiteral("from")).toDouble(0),
                              go.value(QStringLiteral("to")).toDouble(0)});
        }
        w.countedInRto = o.value(QStringLiteral("counted_in_rto")).toBool(true);
        w.note = o.value(QStringLiteral("note")).toString();
        r.writers.append(w);
    }

    const QJsonObject prediction = json.value(QStringLiteral("prediction")).toObject();
    r.prediction.seconds = prediction.value(QStringLiteral("seconds")).toDouble(-1);
    r.prediction.slowestLayer = prediction.value(QStringLiteral("slowest_layer")).toString();
    const QJsonArray lines = prediction.value(QStringLiteral("lines")).toArray();
    for (const QJsonValue &v : lines)
        r.prediction.lines.append(v.toString());
    r.runbook = json.value(QStringLiteral("runbook")).toObject();
    return r;
}

} // namespace Pilothouse
