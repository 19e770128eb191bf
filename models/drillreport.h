#pragma once
// Value types; usable on any thread. QtCore only: the GUI draws these, the engine fills them.

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

namespace Pilothouse {

// What a failover drill did and measured, on one time axis: every offset is
// in seconds since startedAt. The JSON keys are the contract the CLI, the
// GUI's report view and the benchmark read; add keys freely, never rename.
struct DrillReport
{
    struct Fault
    {
        QString kind;           // the scenario's fault: "kill-container", "stop-engine", ...
        QString target;         // what it hit: "pg-1@swarm-01", "swarm-02", ...
        double injectedAt = -1; // -1: never injected
        double restoredAt = -1; // -1: never restored
    };

    // A span of the failover: detection, promotion, one per pgpool's catch-up, proxy, app.
    struct Phase
    {
        QString name;
        double startedAt = 0;
        double seconds = 0;
    };

    struct Event
    {
        double at = 0;
        QString layer; // repmgr|pgpool|etcd|swarm|proxy|app|writer|drill
        QString text;
    };

    struct Gap
    {
        double from = 0;
        double to = 0;
    };

    // One heartbeat writer's account: what it tried, what was acknowledged,
    // what the primary lacks afterwards.
    struct Writer
    {
        QString path; // "pgpool@swarm-01", "app", ...
        int attempts = 0;
        int acknowledged = 0;
        int failed = 0;
        int lost = 0; // acknowledged, yet missing on the primary after the drill
        double writeGapSeconds = 0;
        QList<Gap> gaps;
        // False for a path the RTO leaves out, with why: a writer straight to
        // the old primary (partition), or a pgpool Swarm moved to another host.
        bool countedInRto = true;
        QString note;
    };

    struct Prediction
    {
        double seconds = -1; // -1: no estimate
        QString slowestLayer;
        QStringList lines; // how the estimate was made, one setting per line
    };

    QString scenario;
    QString reason;
    QDateTime startedAt; // UTC
    QString outcome;     // succeeded|failed|cancelled
    QString error;

    double rtoSeconds = -1; // the larger of the two write gaps; -1: not measured
    double rtoPgpoolSeconds = -1;
    double rtoAppSeconds = -1;
    int rpoWrites = -1; // -1: not measured
    double twoPrimariesSeconds = 0;
    bool healthyAfter = false;
    double healthyAfterSeconds = -1; // since startedAt

    QString oldPrimary;
    QString newPrimary;
    // partition-primary: writes the isolated old primary acknowledged after a
    // standby was promoted (a writer goes straight to it); -1: not measured.
    int oldPrimaryWritesAfterPromotion = -1;
    // Of those, the ones acknowledged while it was still cut off (before the
    // restore): the partition target is 0. -1: not measured.
    int oldPrimaryWritesWhileIsolated = -1;

    Fault fault;
    QList<Phase> phases;
    QList<Event> events;
    QList<Writer> writers;
    Prediction prediction;
    QJsonObject runbook; // RunbookReport::toJson() of the drill's runbook

    bool succeeded() const { return outcome == QLatin1String("succeeded"); }
    const Phase *phase(const QString &name) const;
    const Writer *writer(const QString &path) const;

    QJsonObject toJson() const;
    // Missing keys keep their defaults; wrong types read as defaults too.
    static DrillReport fromJson(const QJsonObject &json);
};

} // namespace Pilothouse

Q_DECLARE_METATYPE(Pilothouse::DrillReport)
