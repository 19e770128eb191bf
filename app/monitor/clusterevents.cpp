#include "app/monitor/clusterevents.h"

#include "models/snapshotdiff.h"

#include <QHash>

namespace Pilothouse::ClusterEvents {
namespace {

QString findingKey(const Finding &f)
{
    return f.code + u'[' + f.objects.join(u',') + u']';
}

// "task:pg-2.1@swarm-02.state" -> the objects a person would look at.
QStringList objectsOfChange(const QString &key)
{
    const QString object = key.section(u'.', 0, 0);
    if (object.startsWith(u"task:")) {
        const qsizetype at = key.lastIndexOf(u'@');
        if (at > 0)
            return {QStringLiteral("host:") + key.mid(at + 1).section(u'.', 0, 0)};
        return {};
    }
    if (object.startsWith(u"swarm:"))
        return {QStringLiteral("host:") + object.mid(6)};
    // Route hosts and certificate places contain dots themselves.
    if (key.startsWith(u"route:")) {
        const qsizetype at = key.indexOf(u'@');
        qsizetype end = at;
        while (end >= 0 && end < key.size() && key[end] != u'.' && key[end] != u'/')
            ++end;
        return {key.left(end)};
    }
    if (key.startsWith(u"cert:"))
        return {key.left(key.lastIndexOf(u'.'))};
    if (object == u"etcd")
        return {};
    return {object};
}

Severity severityOfChange(const SnapshotDiff::Change &c)
{
    // Losing something is worth a look; gaining it back is news, not alarm.
    static const QStringList bad = {QStringLiteral("no"), QStringLiteral("down"),
                                    QStringLiteral("failed"), QStringLiteral("unreachable")};
    if (c.key.endsWith(u".role") && !c.before.isEmpty() && !c.after.isEmpty())
        return Severity::Warning;
    if (c.key == u"etcd.quorum" && c.after.endsWith(u"lost"))
        return Severity::Critical;
    if (bad.contains(c.after) && !c.key.endsWith(u".stale") && !c.key.endsWith(u".leader"))
        return Severity::Warning;
    return Severity::Info;
}

} // namespace

QList<ClusterEvent> fromRepmgr(const QList<RepmgrEvent> &events, const QList<RepmgrNodeView> &nodes)
{
    QHash<int, QString> names;
    for (const RepmgrNodeView &n : nodes)
        names.insert(n.nodeId, n.name);
    QList<ClusterEvent> out;
    out.reserve(events.size());
    for (const RepmgrEvent &e : events) {
        const QString name = names.value(e.nodeId, QStringLiteral("node %1").arg(e.nodeId));
        ClusterEvent c;
        c.at = e.timestamp;
        c.source = QStringLiteral("repmgr");
        c.severity = e.successful ? Severity::Info : Severity::Warning;
        c.text = QStringLiteral("%1 on %2%3%4")
                     .arg(e.event, name, e.successful ? QString() : QStringLiteral(" (failed)"),
                          e.details.isEmpty() ? QString() : QStringLiteral(": ") + e.details);
        if (names.contains(e.nodeId))
            c.objects = {QStringLiteral("pg:") + name};
        c.key = QStringLiteral("repmgr:%1:%2:%3")
                    .arg(e.nodeId)
                    .arg(e.event, e.timestamp.toString(Qt::ISODateWithMs));
        out.append(c);
    }
    return out;
}

std::optional<ClusterEvent> fromDocker(const DockerEvent &event, const QString &host)
{
    static const QStringList lifecycle = {
        QStringLiteral("create"),  QStringLiteral("start"), QStringLiteral("die"),
        QStringLiteral("kill"),    QStringLiteral("oom"),   QStringLiteral("stop"),
        QStringLiteral("destroy"), QStringLiteral("pause"), QStringLiteral("unpause"),
        QStringLiteral("update"),  QStringLiteral("remove")};
    if (!lifecycle.contains(event.action))
        return std::nullopt;
    ClusterEvent c;
    c.at = event.time;
    c.source = QStringLiteral("swarm");
    if (event.type == u"container") {
        const QString service =
            event.attributes.value(QStringLiteral("com.docker.swarm.service.name"));
        const QString exitCode = event.attributes.value(QStringLiteral("exitCode"));
        c.text = QStringLiteral("container %1 %2 on %3%4")
                     .arg(service.isEmpty() ? event.name() : service, event.action, host,
                          exitCode.isEmpty() ? QString()
                                             : QStringLiteral(" (exit code ") + exitCode + u')');
        c.severity = (event.action == u"die" && exitCode != u"0") || event.action == u"oom" ||
                             event.action == u"kill"
                         ? Severity::Warning
                         : Severity::Info;
        c.objects = {QStringLiteral("host:") + host};
        // A container's event is reported by its own engine only.
        c.key = QStringLiteral("docker:%1:%2:%3:%4")
                    .arg(host, event.actorId, event.action)
                    .arg(event.timeNano);
    } else if (event.type == u"service" || event.type == u"node") {
        c.text = QStringLiteral("%1 %2 %3").arg(event.type, event.name(), event.action);
        if (event.type == u"node")
            c.objects = {QStringLiteral("host:") + event.name()};
        // Every manager reports it: the key leaves the reporting host out.
        c.key =
            QStringLiteral("docker:%1:%2:%3").arg(event.actorId, event.action).arg(event.timeNano);
    } else {
        return std::nullopt;
    }
    return c;
}

QList<ClusterEvent> fromSnapshots(const ClusterSnapshot &before, const ClusterSnapshot &after)
{
    QList<ClusterEvent> out;
    const QString stamp = after.takenAt.toString(Qt::ISODateWithMs);
    QHash<QString, const Finding *> old;
    for (const Finding &f : before.findings)
        old.insert(findingKey(f), &f);
    QSet<QString> now;
    for (const Finding &f : after.findings) {
        const QString key = findingKey(f);
        now.insert(key);
        if (old.contains(key))
            continue;
        out.append({after.takenAt, QStringLiteral("finding"), f.severity, f.message, f.objects,
                    QStringLiteral("finding+:") + key + u'@' + stamp});
    }
    for (auto it = old.cbegin(); it != old.cend(); ++it) {
        if (now.contains(it.key()))
            continue;
        out.append({after.takenAt, QStringLiteral("finding"), Severity::Info,
                    QStringLiteral("Cleared: ") + it.value()->message, it.value()->objects,
                    QStringLiteral("finding-:") + it.key() + u'@' + stamp});
    }
    for (const SnapshotDiff::Change &c : SnapshotDiff::diff(before, after)) {
        // Findings have their own entries above; staleness shows as a finding too.
        if (c.key.startsWith(u"finding:") || c.key.endsWith(u".stale"))
            continue;
        // Something seen for the first time (a layer's first answer, a new task) is
        // not news by itself; Docker's events and the findings say when it matters.
        // What disappears is kept: a pgpool task or a backend gone is worth a line.
        if (c.before.isEmpty())
            continue;
        out.append({after.takenAt, QStringLiteral("change"), severityOfChange(c),
                    SnapshotDiff::describe(c), objectsOfChange(c.key),
                    QStringLiteral("change:") + c.key + u'@' + stamp});
    }
    return out;
}

} // namespace Pilothouse::ClusterEvents
