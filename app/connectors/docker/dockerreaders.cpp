#include "app/connectors/docker/dockerreaders.h"

#include <limits>

#include "app/connectors/docker/dockererror_p.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>

namespace Pilothouse::DockerReaders {
namespace {

QString str(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toString();
}

QJsonObject obj(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toObject();
}

Result<QJsonArray> topArray(const QJsonDocument &doc, const char *what)
{
    if (!doc.isArray())
        return Internal::dockerError(
            QStringLiteral("%1: expected a JSON array from the engine").arg(QLatin1String(what)));
    return doc.array();
}

QStringList labelList(const QJsonObject &labels)
{
    QStringList out;
    for (auto it = labels.begin(); it != labels.end(); ++it)
        out.append(it.key() + u'=' + it.value().toString());
    out.sort();
    return out;
}

// "10.213.0.11:2377" -> "10.213.0.11"; IPv6 "[::1]:2377" -> "::1".
QString hostOf(const QString &hostPort)
{
    if (hostPort.startsWith(u'[')) {
        const qsizetype end = hostPort.indexOf(u']');
        return end > 0 ? hostPort.mid(1, end - 1) : hostPort;
    }
    const qsizetype colon = hostPort.lastIndexOf(u':');
    return colon > 0 ? hostPort.left(colon) : hostPort;
}

} // namespace

int apiMinor(const QString &version)
{
    static const QRegularExpression re(QStringLiteral("^1\\.(\\d{1,3})$"));
    const auto m = re.match(version.trimmed());
    return m.hasMatch() ? m.captured(1).toInt() : -1;
}

Result<QString> negotiateApiVersion(const QString &serverVersion, int clientMaxMinor,
                                    int clientMinMinor)
{
    const int server = apiMinor(serverVersion);
    if (server < 0)
        return Internal::dockerError(
            QStringLiteral("the engine reports API version \"%1\", which is not of the "
                           "form 1.NN")
                .arg(serverVersion));
    if (server < clientMinMinor)
        return Internal::dockerError(
            QStringLiteral("the engine speaks Docker API %1; Pilothouse needs 1.%2 or "
                           "newer (Docker 17.06+)")
                .arg(serverVersion)
                .arg(clientMinMinor));
    return QStringLiteral("1.%1").arg(std::min(server, clientMaxMinor));
}

Result<QString> readVersionApi(const QJsonDocument &doc)
{
    const QString v = doc.object().value(QStringLiteral("ApiVersion")).toString();
    if (v.isEmpty())
        return Internal::dockerError(
            QStringLiteral("GET /version: no ApiVersion in the engine's answer"));
    return v;
}

QByteArray encodeFilters(const DockerFilters &filters)
{
    QJsonObject o;
    for (auto it = filters.cbegin(); it != filters.cend(); ++it)
        o.insert(it.key(), QJsonArray::fromStringList(it.value()));
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QString stripStackPrefix(const QString &name, const QString &stackNamespace)
{
    if (stackNamespace.isEmpty())
        return name;
    const QString prefix = stackNamespace + u'_';
    return name.startsWith(prefix) ? name.mid(prefix.size()) : name;
}

QDateTime readTimestamp(const QString &text)
{
    // Go prints up to 9 fractional digits; Qt reads at most milliseconds.
    static const QRegularExpression re(QStringLiteral(
        "^(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d)(?:\\.(\\d+))?(Z|[+-]\\d\\d:\\d\\d)$"));
    const auto m = re.match(text.trimmed());
    if (!m.hasMatch())
        return {};
    const QString ms = QString(m.captured(2) + QStringLiteral("000")).left(3);
    QDateTime t =
        QDateTime::fromString(m.captured(1) + u'.' + ms + m.captured(3), Qt::ISODateWithMs);
    if (!t.isValid() || t.date().year() <= 1)
        return {};
    return t.toUTC();
}

Result<QList<SwarmNodeState>> readNodes(const QJsonDocument &doc)
{
    const auto array = topArray(doc, "GET /nodes");
    if (!array)
        return array.error();
    QList<SwarmNodeState> nodes;
    for (const QJsonValue &v : array.value()) {
        const QJsonObject n = v.toObject();
        const QJsonObject spec = obj(n, "Spec");
        const QJsonObject status = obj(n, "Status");
        const QJsonObject manager = obj(n, "ManagerStatus");
        SwarmNodeState s;
        s.id = str(n, "ID");
        s.hostname = str(obj(n, "Description"), "Hostname");
        s.state = str(status, "State");
        s.availability = str(spec, "Availability");
        s.manager = str(spec, "Role") == QLatin1String("manager") || !manager.isEmpty();
        s.leader = manager.value(QStringLiteral("Leader")).toBool();
        s.managerReachability = str(manager, "Reachability");
        s.address = str(status, "Addr");
        // Managers sometimes report 0.0.0.0 here; their raft address is the real one.
        if ((s.address.isEmpty() || s.address == QLatin1String("0.0.0.0")) && !manager.isEmpty())
            s.address = hostOf(str(manager, "Addr"));
        s.labels = labelList(obj(spec, "Labels"));
        if (s.id.isEmpty())
            return Internal::dockerError(QStringLiteral("GET /nodes: a node without ID"));
        nodes.append(s);
    }
    std::sort(nodes.begin(), nodes.end(), [](const SwarmNodeState &a, const SwarmNodeState &b) {
        return a.hostname < b.hostname;
    });
    return nodes;
}

Result<QList<ServiceState>> readServices(const QJsonDocument &doc)
{
    const auto array = topArray(doc, "GET /services");
    if (!array)
        return array.error();
    QList<ServiceState> services;
    for (const QJsonValue &v : array.value()) {
        const QJsonObject o = v.toObject();
        const QJsonObject spec = obj(o, "Spec");
        const QJsonObject mode = obj(spec, "Mode");
        const QJsonObject serviceStatus = obj(o, "ServiceStatus");
        ServiceState s;
        s.id = str(o, "ID");
        s.stack = str(obj(spec, "Labels"), "com.docker.stack.namespace");
        s.name = stripStackPrefix(str(spec, "Name"), s.stack);
        if (mode.contains(QStringLiteral("Replicated"))) {
            s.mode = QStringLiteral("replicated");
            s.desiredReplicas = obj(mode, "Replicated").value(QStringLiteral("Replicas")).toInt();
        } else if (mode.contains(QStringLiteral("Global"))) {
            s.mode = QStringLiteral("global");
            // A global service wants one task per eligible node; only the engine knows how many.
            s.desiredReplicas = serviceStatus.value(QStringLiteral("DesiredTasks")).toInt();
        } else if (mode.contains(QStringLiteral("ReplicatedJob"))) {
            s.mode = QStringLiteral("replicated-job");
            s.desiredReplicas =
                obj(mode, "ReplicatedJob").value(QStringLiteral("TotalCompletions")).toInt(1);
        } else if (mode.contains(QStringLiteral("GlobalJob"))) {
            s.mode = QStringLiteral("global-job");
            s.desiredReplicas = serviceStatus.value(QStringLiteral("DesiredTasks")).toInt();
        }
        s.runningTasks = serviceStatus.value(QStringLiteral("RunningTasks")).toInt();
        s.image = str(obj(obj(spec, "TaskTemplate"), "ContainerSpec"), "Image");
        s.versionIndex = quint64(obj(o, "Version").value(QStringLiteral("Index")).toDouble());
        s.updateState = str(obj(o, "UpdateStatus"), "State");
        if (s.id.isEmpty())
            return Internal::dockerError(QStringLiteral("GET /services: a service without ID"));
        services.append(s);
    }
    std::sort(services.begin(), services.end(),
              [](const ServiceState &a, const ServiceState &b) { return a.name < b.name; });
    return services;
}

Result<QList<TaskState>> readTasks(const QJsonDocument &doc, const QList<ServiceState> &services,
                                   const QList<SwarmNodeState> &nodes)
{
    const auto array = topArray(doc, "GET /tasks");
    if (!array)
        return array.error();
    QHash<QString, QString> serviceNames;
    for (const ServiceState &s : services)
        serviceNames.insert(s.id, s.name);
    QHash<QString, QString> hostnames;
    for (const SwarmNodeState &n : nodes)
        hostnames.insert(n.id, n.hostname);

    QList<TaskState> tasks;
    for (const QJsonValue &v : array.value()) {
        const QJsonObject o = v.toObject();
        const QJsonObject status = obj(o, "Status");
        TaskState t;
        t.id = str(o, "ID");
        const QString serviceId = str(o, "ServiceID");
        t.service = serviceNames.value(serviceId, serviceId);
        t.slot = o.value(QStringLiteral("Slot")).toInt();
        t.nodeId = str(o, "NodeID");
        t.hostname = hostnames.value(t.nodeId, t.nodeId);
        t.desiredState = str(o, "DesiredState");
        t.currentState = str(status, "State");
        t.error = str(status, "Err");
        t.containerId = str(obj(status, "ContainerStatus"), "ContainerID");
        t.since = readTimestamp(str(status, "Timestamp"));
        if (t.id.isEmpty())
            return Internal::dockerError(QStringLiteral("GET /tasks: a task without ID"));
        tasks.append(t);
    }
    std::sort(tasks.begin(), tasks.end(), [](const TaskState &a, const TaskState &b) {
        if (a.service != b.service)
            return a.service < b.service;
        if (a.slot != b.slot)
            return a.slot < b.slot;
        if (a.since != b.since)
            return a.since > b.since;
        return a.id < b.id;
    });
    return tasks;
}

Result<DockerEvent> readEvent(const QByteArray &line)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        return Internal::dockerError(
            QStringLiteral("GET /events: a line is not a JSON object (%1): %2")
                .arg(parseError.errorString(), QString::fromUtf8(line.left(200))));
    }
    const QJsonObject o = doc.object();
    DockerEvent e;
    e.type = str(o, "Type");
    e.action = str(o, "Action");
    const QJsonObject actor = obj(o, "Actor");
    e.actorId = str(actor, "ID");
    const QJsonObject attributes = obj(actor, "Attributes");
    for (auto it = attributes.begin(); it != attributes.end(); ++it)
        e.attributes.insert(it.key(), it.value().toString());
    e.scope = str(o, "scope");
    // Qt 6 keeps JSON integers as 64-bit integers: timeNano stays exact, as
    // resuming the stream with since= needs.
    const qint64 nano = o.value(QStringLiteral("timeNano")).toInteger();
    if (nano > 0) {
        e.timeNano = nano;
    } else {
        // Seconds only (old engines). Beyond year 2262 they do not fit in
        // nanoseconds (found by fuzz_docker: the product overflowed).
        const qint64 seconds = o.value(QStringLiteral("time")).toInteger();
        if (seconds < 0 || seconds > std::numeric_limits<qint64>::max() / 1000000000LL)
            return Internal::dockerError(
                QStringLiteral("GET /events: an event with an impossible time: %1")
                    .arg(QString::fromUtf8(line.left(200))));
        e.timeNano = seconds * 1000000000LL;
    }
    e.time = QDateTime::fromMSecsSinceEpoch(e.timeNano / 1000000, Qt::UTC);
    if (e.type.isEmpty() || e.action.isEmpty())
        return Internal::dockerError(
            QStringLiteral("GET /events: an event without Type or Action: %1")
                .arg(QString::fromUtf8(line.left(200))));
    return e;
}

} // namespace Pilothouse::DockerReaders
