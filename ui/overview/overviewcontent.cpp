#include "models/findings.h"
#include "ui/overview/overviewcontent_p.h"

#include <QCoreApplication>
#include <QHash>
#include <QMap>
#include <QSet>

#include <algorithm>

namespace Pilothouse::Internal {
namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("Pilothouse::OverviewScene", text);
}

using Properties = QList<QPair<QString, QString>>;

bool neverRead(const Freshness &f)
{
    return !f.readAt.isValid();
}

bool isStale(const Freshness &f)
{
    return f.stale || neverRead(f);
}

QString age(const Freshness &f, const QDateTime &now)
{
    if (neverRead(f))
        return tr("never read");
    const qint64 secs = qMax<qint64>(0, f.readAt.secsTo(now));
    if (secs < 120)
        return tr("%1 s ago").arg(secs);
    if (secs < 7200)
        return tr("%1 min ago").arg(secs / 60);
    return tr("%1 h ago").arg(secs / 3600);
}

// Greys a card whose values are old; a card whose object is down keeps its
// colour (that it is down is news, not an old value) and shows the age only.
void setFreshness(Card &c, const Freshness &f, const QDateTime &now, bool down)
{
    c.stale = isStale(f) && !down;
    c.age = isStale(f) ? age(f, now) : QString();
}

// ", stale: 12 s ago" for summaries of stale values.
QString staleSuffix(const Freshness &f, const QDateTime &now)
{
    return isStale(f) ? tr(" (stale, %1)").arg(age(f, now)) : QString();
}

QString bytes(qint64 b)
{
    if (b < 0)
        return tr("? B");
    if (b < 1024)
        return tr("%1 B").arg(b);
    if (b < 1024 * 1024)
        return tr("%1 KiB").arg(double(b) / 1024, 0, 'f', 1);
    if (b < qint64(1024) * 1024 * 1024)
        return tr("%1 MiB").arg(double(b) / (1024 * 1024), 0, 'f', 1);
    return tr("%1 GiB").arg(double(b) / (1024.0 * 1024 * 1024), 0, 'f', 2);
}

QString seconds(double s)
{
    if (s < 0)
        return tr("? s");
    if (s < 100)
        return tr("%1 s").arg(s, 0, 'f', 1);
    if (s < 6000)
        return tr("%1 min").arg(s / 60, 0, 'f', 1);
    return tr("%1 h").arg(s / 3600, 0, 'f', 1);
}

QString millis(double ms)
{
    if (ms < 0)
        return tr("? ms");
    return ms < 10 ? tr("%1 ms").arg(ms, 0, 'f', 1) : tr("%1 ms").arg(qRound(ms));
}

QString count(qint64 n)
{
    if (n < 10000)
        return QString::number(n);
    if (n < 10000000)
        return tr("%1k").arg(n / 1000);
    return tr("%1M").arg(n / 1000000);
}

QString yesNo(bool b)
{
    return b ? tr("yes") : tr("no");
}

QString orDash(const QString &s)
{
    return s.isEmpty() ? QStringLiteral("–") : s;
}

QString when(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(Qt::ISODate) : tr("never");
}

void addFreshness(Properties &p, const Freshness &f, const QDateTime &now)
{
    p.append(
        {tr("Read"), neverRead(f) ? tr("never") : tr("%1 (%2)").arg(when(f.readAt), age(f, now))});
    p.append({tr("Stale"), yesNo(isStale(f))});
    if (!f.error.isEmpty())
        p.append({tr("Last error"), f.error});
}

QString tooltip(const QString &title, const QString &summary, const Properties &properties)
{
    QString html = QStringLiteral("<b>") + title.toHtmlEscaped() + QStringLiteral("</b><br/>") +
                   summary.toHtmlEscaped() + QStringLiteral("<table>");
    for (const auto &p : properties)
        html += QStringLiteral("<tr><td>") + p.first.toHtmlEscaped() +
                QStringLiteral("&nbsp;&nbsp;</td><td>") + p.second.toHtmlEscaped() +
                QStringLiteral("</td></tr>");
    html += QStringLiteral("</table>");
    return html;
}

ItemInfo info(const QString &title, const QString &summary, const Properties &properties,
              bool stale)
{
    return ItemInfo{summary, properties, tooltip(title, summary, properties), stale};
}

Line chipsLine(QList<Chip> chips, int rows)
{
    Line l;
    l.kind = Line::Kind::Chips;
    l.rows = rows;
    l.chips = std::move(chips);
    return l;
}

Line spacer(int rows)
{
    Line l;
    l.kind = Line::Kind::Spacer;
    l.rows = rows;
    return l;
}

Line boldLine(const QString &text, Tone tone, Glyph glyph)
{
    Line l = Line::plain(text, tone, glyph);
    l.bold = true;
    return l;
}

// pgpool names backends by host name (pg-1) or a longer DNS name; map to the node.
QString backendNode(const PgpoolBackend &b, const ClusterSnapshot &s)
{
    for (const PostgresNodeState &n : s.postgres) {
        if (b.hostname == n.name || b.hostname.startsWith(n.name + u'.'))
            return n.name;
    }
    return b.hostname;
}

const PostgresNodeState *pgNode(const ClusterSnapshot &s, const QString &name)
{
    for (const PostgresNodeState &n : s.postgres) {
        if (n.name == name)
            return &n;
    }
    return nullptr;
}

Tone taskTone(const QString &state)
{
    if (state == u"running")
        return Tone::Ok;
    if (state == u"failed" || state == u"rejected" || state == u"orphaned")
        return Tone::Critical;
    return Tone::Warning;
}

Glyph glyphFor(Tone tone)
{
    switch (tone) {
    case Tone::Ok:
        return Glyph::Ok;
    case Tone::Warning:
        return Glyph::Warning;
    case Tone::Critical:
        return Glyph::Critical;
    default:
        return Glyph::None;
    }
}

Tone worse(Tone a, Tone b)
{
    const auto rank = [](Tone t) {
        switch (t) {
        case Tone::Critical:
            return 3;
        case Tone::Warning:
            return 2;
        default:
            return 0;
        }
    };
    return rank(b) > rank(a) ? b : a;
}

class Builder
{
public:
    Builder(const ClusterSnapshot &s, const QDateTime &now)
        : m_s(s)
        , m_now(now)
    {
        for (const PostgresNodeState &n : s.postgres) {
            if (n.reachable && n.role == u"primary")
                m_dbPrimaries.append(n.name);
        }
    }

    OverviewContent build()
    {
        columns();
        hosts();
        postgres();
        etcd();
        pgpools();
        routes();
        apps();
        return std::move(m_out);
    }

private:
    void add(ItemSpec spec) { m_out.items.append(std::move(spec)); }

    void columns()
    {
        QSet<QString> names;
        for (const HostState &h : m_s.hosts)
            names.insert(h.name);
        for (const PostgresNodeState &n : m_s.postgres)
            names.insert(n.host);
        for (const EtcdMemberState &m : m_s.etcd.members)
            names.insert(m.host);
        for (const PgpoolInstanceState &p : m_s.pgpools)
            names.insert(p.host);
        for (const ProxyRoute &r : m_s.routes)
            names.insert(r.proxy);
        QStringList list(names.cbegin(), names.cend());
        // Objects whose host is unknown get a last column of their own.
        std::sort(list.begin(), list.end(), [](const QString &a, const QString &b) {
            if (a.isEmpty() != b.isEmpty())
                return b.isEmpty();
            return naturalLess(a, b);
        });
        m_out.columns = list;
    }

    void hosts()
    {
        for (const QString &name : std::as_const(m_out.columns)) {
            if (name.isEmpty())
                continue;
            const HostState *h = nullptr;
            for (const HostState &x : m_s.hosts) {
                if (x.name == name)
                    h = &x;
            }
            const SwarmNodeState *n = nullptr;
            for (const SwarmNodeState &x : m_s.swarmNodes) {
                if (x.hostname == name)
                    n = &x;
            }
            const Freshness fresh = h ? h->freshness : Freshness{};
            ItemSpec spec;
            spec.key = QStringLiteral("host:") + name;
            spec.kind = ItemKind::Host;
            spec.column = name;
            Card &c = spec.card;
            c.title = name;
            c.subtitle = h ? h->address : (n ? n->address : QString());
            setFreshness(c, fresh, m_now, h && !h->reachable);
            Tone tone = Tone::Neutral;
            QStringList words;
            Properties props;
            props.append({tr("Host"), name});
            props.append({tr("Address"), orDash(c.subtitle)});

            if (!h) {
                // Named by a service but not probed over SSH (yet): nothing to alarm about.
                c.lines.append(Line::plain(tr("SSH not probed"), Tone::Dim, Glyph::Unknown));
                words.append(tr("not probed over SSH"));
            } else if (h->reachable) {
                c.lines.append(Line::plain(tr("SSH ok · %1").arg(millis(h->sshLatencyMs)),
                                           Tone::Neutral, Glyph::Ok));
                words.append(tr("reachable (SSH %1)").arg(millis(h->sshLatencyMs)));
            } else {
                const QString why =
                    h->freshness.error.isEmpty() ? tr("no answer") : h->freshness.error;
                c.lines.append(
                    boldLine(tr("SSH unreachable: %1").arg(why), Tone::Critical, Glyph::Critical));
                words.append(tr("unreachable (%1)").arg(why));
                tone = Tone::Critical;
                c.frame = Card::Frame::Dashed;
            }
            props.append(
                {tr("SSH"), h ? (h->reachable ? tr("reachable, %1").arg(millis(h->sshLatencyMs))
                                              : tr("unreachable"))
                              : tr("not probed")});

            if (n) {
                QString role = n->manager ? tr("manager") : tr("worker");
                if (n->leader)
                    role += tr(" · leader");
                Tone swarmTone = Tone::Neutral;
                if (n->state != u"ready" ||
                    (n->manager && n->managerReachability == u"unreachable"))
                    swarmTone = Tone::Critical;
                else if (!n->availability.isEmpty() && n->availability != u"active")
                    swarmTone = Tone::Warning;
                QString text = role + QStringLiteral(" · ") + n->state + QStringLiteral(" · ") +
                               n->availability;
                if (n->manager && n->managerReachability == u"unreachable")
                    text += tr(" · unreachable by managers");
                const Glyph g = swarmTone != Tone::Neutral ? glyphFor(swarmTone)
                                : n->leader                ? Glyph::Leader
                                : n->manager               ? Glyph::Follower
                                                           : Glyph::None;
                c.lines.append(Line::plain(text, swarmTone, g));
                tone = worse(tone, swarmTone);
                words.append(n->manager
                                 ? (n->leader ? tr("Swarm manager (leader)") : tr("Swarm manager"))
                                 : tr("Swarm worker"));
                words.append(n->state);
                words.append(n->availability);
                props.append({tr("Swarm role"), role});
                props.append({tr("Swarm node"), n->id});
                props.append({tr("Node state"), n->state});
                props.append({tr("Availability"), n->availability});
                if (n->manager)
                    props.append({tr("Manager reachability"), orDash(n->managerReachability)});
                if (!n->labels.isEmpty())
                    props.append({tr("Labels"), n->labels.join(QStringLiteral(", "))});
            } else {
                c.lines.append(Line::plain(tr("not in the Swarm"), Tone::Warning, Glyph::Warning));
                tone = worse(tone, Tone::Warning);
                words.append(tr("not in the Swarm"));
            }

            // Tasks grouped by service: "app ×2", with the worst state when not all run.
            struct Group
            {
                int total = 0;
                int running = 0;
                QString state;
                Tone tone = Tone::Ok;
            };
            QMap<QString, Group> groups;
            QStringList taskLines;
            for (const TaskState &t : m_s.tasks) {
                if (t.hostname != name || t.desiredState == u"shutdown" ||
                    t.desiredState == u"remove")
                    continue;
                Group &g = groups[t.service];
                ++g.total;
                const Tone tt = taskTone(t.currentState);
                if (tt == Tone::Ok)
                    ++g.running;
                else if (worse(g.tone, tt) != g.tone || g.state.isEmpty()) {
                    g.tone = worse(g.tone, tt);
                    g.state = t.currentState;
                }
                taskLines.append(tr("%1.%2 %3").arg(t.service).arg(t.slot).arg(t.currentState) +
                                 (t.error.isEmpty() ? QString() : QStringLiteral(": ") + t.error));
            }
            QStringList services = groups.keys();
            std::sort(services.begin(), services.end(), naturalLess);
            QList<Chip> chips;
            QStringList runs;
            for (const QString &service : std::as_const(services)) {
                const Group &g = groups.value(service);
                QString text = g.total > 1 ? tr("%1 ×%2").arg(service).arg(g.total) : service;
                if (g.running < g.total)
                    text += QStringLiteral(" · ") + g.state;
                chips.append({text, g.running < g.total ? glyphFor(g.tone) : Glyph::Ok,
                              g.running < g.total ? g.tone : Tone::Neutral});
                runs.append(text);
                if (g.running < g.total)
                    tone = worse(tone, Tone::Warning);
            }
            if (chips.isEmpty())
                chips.append({tr("no tasks"), Glyph::None, Tone::Dim});
            c.lines.append(chipsLine(chips, 2));
            props.append({tr("Tasks"),
                          taskLines.isEmpty() ? tr("none") : taskLines.join(QStringLiteral("\n"))});
            addFreshness(props, fresh, m_now);

            c.tone = tone;
            c.glyph = Glyph::Host;
            QString summary = words.join(QStringLiteral(", "));
            if (!runs.isEmpty())
                summary += tr("; runs %1").arg(runs.join(QStringLiteral(", ")));
            summary += staleSuffix(fresh, m_now);
            spec.info = info(name, summary, props, isStale(fresh));
            add(std::move(spec));
        }
    }

    static QString shortVersion(const QString &version)
    {
        const QStringList words = version.split(u' ', Qt::SkipEmptyParts);
        return words.size() >= 2 ? words.at(0) + u' ' + words.at(1) : version;
    }

    void postgres()
    {
        QList<const PostgresNodeState *> nodes;
        for (const PostgresNodeState &n : m_s.postgres)
            nodes.append(&n);
        std::sort(nodes.begin(), nodes.end(),
                  [](auto *a, auto *b) { return naturalLess(a->name, b->name); });
        const bool splitBrain = m_dbPrimaries.size() > 1;
        for (const PostgresNodeState *n : std::as_const(nodes)) {
            ItemSpec spec;
            spec.key = QStringLiteral("pg:") + n->name;
            spec.kind = ItemKind::Postgres;
            spec.column = n->host;
            Card &c = spec.card;
            c.title = n->name;
            c.subtitle = shortVersion(n->version);
            setFreshness(c, n->freshness, m_now, !n->reachable);
            const bool primary = n->role == u"primary";
            const bool standby = n->role == u"standby";
            QString summary;
            if (!n->reachable) {
                const QString why =
                    n->freshness.error.isEmpty() ? tr("no answer") : n->freshness.error;
                c.glyph = Glyph::Critical;
                c.tone = Tone::Critical;
                c.frame = Card::Frame::Dashed;
                c.lines.append(
                    boldLine(n->role.isEmpty() || n->role == u"unknown"
                                 ? tr("DOWN")
                                 : tr("DOWN · was %1, timeline %2").arg(n->role).arg(n->timeline),
                             Tone::Critical, Glyph::None));
                c.lines.append(Line::plain(why, Tone::Critical));
                c.lines.append(Line::plain(
                    tr("last LSN %1").arg(orDash(primary ? n->currentLsn : n->replayedLsn)),
                    Tone::Dim));
                summary = tr("down (unreachable: %1)").arg(why);
            } else if (primary) {
                c.glyph = Glyph::Primary;
                c.tone = splitBrain ? Tone::Critical : Tone::Accent;
                c.frame = Card::Frame::Double;
                c.lines.append(
                    boldLine(tr("PRIMARY · timeline %1").arg(n->timeline), c.tone, Glyph::None));
                c.lines.append(Line::plain(tr("LSN %1").arg(orDash(n->currentLsn))));
                if (splitBrain)
                    c.lines.append(
                        boldLine(tr("split brain: %1 primaries").arg(m_dbPrimaries.size()),
                                 Tone::Critical, Glyph::Critical));
                else
                    c.lines.append(Line::plain(
                        (streamingCount(*n) == 1
                             ? tr("1 standby streaming · %2 connections")
                             : tr("%1 standbys streaming · %2 connections").arg(streamingCount(*n)))
                            .arg(n->connections),
                        Tone::Dim));
                summary = tr("primary, timeline %1").arg(n->timeline);
                if (splitBrain)
                    summary += tr(", split brain");
            } else if (standby) {
                const bool streaming = n->walReceiverStatus == u"streaming";
                c.glyph = Glyph::Standby;
                c.tone = streaming ? Tone::Neutral : Tone::Warning;
                c.lines.append(boldLine(tr("standby · timeline %1").arg(n->timeline), Tone::Neutral,
                                        Glyph::None));
                c.lines.append(Line::plain(tr("replayed %1").arg(orDash(n->replayedLsn))));
                if (streaming)
                    c.lines.append(Line::plain(tr("streaming from %1 · %2 connections")
                                                   .arg(orDash(n->upstream))
                                                   .arg(n->connections),
                                               Tone::Dim));
                else
                    c.lines.append(
                        boldLine(tr("not streaming (receiver: %1)")
                                     .arg(n->walReceiverStatus.isEmpty() ? tr("none")
                                                                         : n->walReceiverStatus),
                                 Tone::Warning, Glyph::Warning));
                summary = tr("standby, timeline %1, %2")
                              .arg(n->timeline)
                              .arg(streaming ? tr("streaming from %1").arg(orDash(n->upstream))
                                             : tr("not streaming"));
            } else {
                c.glyph = Glyph::Unknown;
                c.tone = Tone::Warning;
                c.lines.append(
                    boldLine(tr("role %1").arg(orDash(n->role)), Tone::Warning, Glyph::None));
                c.lines.append(Line::plain(tr("LSN %1").arg(orDash(n->currentLsn))));
                c.lines.append(Line::plain(QString()));
                summary = tr("%1, timeline %2").arg(orDash(n->role)).arg(n->timeline);
            }
            // No automatic failover from or to this node: said in place of the
            // quiet third line (a card keeps its size), in words and an icon.
            if (n->reachable && (n->repmgrd == u"paused" || n->repmgrd == u"not running")) {
                if (!c.lines.isEmpty() && c.lines.last().tone == Tone::Dim)
                    c.lines.last() = boldLine(tr("repmgrd %1 · no auto-failover").arg(n->repmgrd),
                                              Tone::Warning, Glyph::Warning);
                summary += tr(", repmgrd %1").arg(n->repmgrd);
            }
            summary += staleSuffix(n->freshness, m_now);

            Properties p;
            p.append({tr("Node"), n->name});
            p.append({tr("Host"), n->host});
            p.append({tr("Reachable"), yesNo(n->reachable)});
            p.append({tr("Role"), orDash(n->role)});
            p.append({tr("Timeline"), QString::number(n->timeline)});
            if (primary)
                p.append({tr("Current LSN"), orDash(n->currentLsn)});
            if (standby) {
                p.append({tr("Received LSN"), orDash(n->receivedLsn)});
                p.append({tr("Replayed LSN"), orDash(n->replayedLsn)});
                p.append({tr("Upstream"), orDash(n->upstream)});
                p.append({tr("WAL receiver"), orDash(n->walReceiverStatus)});
                p.append({tr("Received, not replayed"), bytes(n->lagBytes)});
                // Also counts the time the primary committed nothing: not the lag.
                p.append({tr("Last replayed commit"), tr("%1 ago").arg(seconds(n->lagSeconds))});
            }
            for (const ReplicationLink &l : n->replicas)
                p.append({tr("Replica %1").arg(l.applicationName),
                          tr("%1, %2, %3 behind").arg(l.state, l.syncState, bytes(l.lagBytes))});
            for (const RepmgrNodeView &r : n->repmgr)
                p.append(
                    {tr("repmgr node %1").arg(r.nodeId),
                     tr("%1: %2%3").arg(r.name, r.type, r.active ? QString() : tr(" (inactive)"))});
            p.append({tr("repmgrd"), n->repmgrd.isEmpty() ? tr("unknown") : n->repmgrd});
            p.append({tr("Connections"), QString::number(n->connections)});
            p.append({tr("Commits"), QString::number(n->xactCommit)});
            p.append({tr("Rollbacks"), QString::number(n->xactRollback)});
            p.append({tr("Version"), orDash(n->version)});
            addFreshness(p, n->freshness, m_now);
            spec.info = info(n->name, summary, p, isStale(n->freshness));
            add(std::move(spec));
        }
        replication(nodes);
    }

    static int streamingCount(const PostgresNodeState &primary)
    {
        return int(std::count_if(primary.replicas.cbegin(), primary.replicas.cend(),
                                 [](const ReplicationLink &l) { return l.state == u"streaming"; }));
    }

    // An edge into every node that is not a primary, from the node it says it
    // streams from, else from the one primary (even when that one is down, so
    // that a broken link still shows).
    void replication(const QList<const PostgresNodeState *> &nodes)
    {
        QStringList knownPrimaries;
        for (const PostgresNodeState *n : nodes) {
            if (n->role == u"primary")
                knownPrimaries.append(n->name);
        }
        QString defaultSource;
        if (m_dbPrimaries.size() == 1)
            defaultSource = m_dbPrimaries.first();
        else if (m_dbPrimaries.isEmpty() && knownPrimaries.size() == 1)
            defaultSource = knownPrimaries.first();
        const Findings::Thresholds thresholds;

        for (const PostgresNodeState *n : nodes) {
            if (n->role == u"primary" && (n->reachable || n->name == defaultSource))
                continue;
            QString sourceName;
            if (!n->upstream.isEmpty()) {
                for (const PostgresNodeState *m : nodes) {
                    if (m != n &&
                        (n->upstream == m->name || n->upstream.startsWith(m->name + u'.')))
                        sourceName = m->name;
                }
            }
            if (sourceName.isEmpty())
                sourceName = defaultSource;
            if (sourceName.isEmpty() || sourceName == n->name)
                continue;
            const PostgresNodeState *src = pgNode(m_s, sourceName);
            const ReplicationLink *link = nullptr;
            for (const ReplicationLink &l : src->replicas) {
                if (l.applicationName == n->name)
                    link = &l;
            }
            const qint64 lagBytes = n->lagBytes >= 0 ? n->lagBytes : (link ? link->lagBytes : -1);
            const double lagSeconds = Findings::replayDelaySeconds(src, *n);

            ItemSpec spec;
            spec.key = QStringLiteral("repl:") + n->name;
            spec.kind = ItemKind::Replication;
            spec.from = QStringLiteral("pg:") + sourceName;
            spec.to = QStringLiteral("pg:") + n->name;
            EdgeLook &e = spec.edge;
            QString broken;
            if (!n->reachable)
                broken = tr("%1 down").arg(n->name);
            else if (!src->reachable)
                broken = tr("%1 down").arg(src->name);
            else if (n->role != u"standby")
                broken = tr("%1 is %2").arg(n->name, orDash(n->role));
            else if (n->walReceiverStatus != u"streaming")
                broken = tr("not streaming");
            const QString lag = bytes(lagBytes) + QStringLiteral(" · ") + seconds(lagSeconds);
            QString summary;
            if (!broken.isEmpty()) {
                e.tone = Tone::Critical;
                e.dashed = true;
                e.glyph = Glyph::Critical;
                e.label = tr("broken: %1").arg(broken);
                summary = tr("broken: %1").arg(broken);
            } else if ((lagBytes >= 0 && lagBytes > thresholds.lagBytesWarning) ||
                       (lagSeconds >= 0 && lagSeconds > thresholds.lagSecondsWarning)) {
                e.tone = Tone::Warning;
                e.glyph = Glyph::Warning;
                e.label = tr("lagging · %1").arg(lag);
                summary = tr("lagging, %1 / %2 behind %3")
                              .arg(bytes(lagBytes), seconds(lagSeconds), src->name);
            } else {
                e.tone = Tone::Ok;
                e.label = tr("%1 · %2").arg(link ? link->state : n->walReceiverStatus, lag);
                summary = tr("streaming, lag %1 / %2").arg(bytes(lagBytes), seconds(lagSeconds));
            }
            const bool stale = isStale(n->freshness) || isStale(src->freshness);
            e.stale = stale && broken.isEmpty();
            if (stale) {
                const Freshness &f = isStale(n->freshness) ? n->freshness : src->freshness;
                e.label += QStringLiteral(" · ") + age(f, m_now);
                summary += staleSuffix(f, m_now);
            }
            Properties p;
            p.append({tr("From"), src->name});
            p.append({tr("To"), n->name});
            p.append({tr("State"), !broken.isEmpty() ? tr("broken: %1").arg(broken)
                                   : link            ? link->state
                                                     : orDash(n->walReceiverStatus)});
            if (link) {
                p.append({tr("Sync state"), orDash(link->syncState)});
                p.append({tr("Client address"), orDash(link->clientAddress)});
                p.append({tr("Write lag"), seconds(link->writeLagSeconds)});
                p.append({tr("Flush lag"), seconds(link->flushLagSeconds)});
                p.append({tr("Replay lag"), seconds(link->replayLagSeconds)});
            }
            p.append({tr("Lag (bytes)"), bytes(lagBytes)});
            p.append({tr("Lag (time)"), seconds(lagSeconds)});
            spec.info = info(tr("%1 → %2").arg(src->name, n->name), summary, p, stale);
            add(std::move(spec));
        }
    }

    void etcd()
    {
        const EtcdState &e = m_s.etcd;
        const int size = e.clusterSize > 0 ? e.clusterSize : int(e.members.size());
        ItemSpec badge;
        badge.key = QStringLiteral("etcd");
        badge.kind = ItemKind::EtcdQuorum;
        if (e.members.isEmpty()) {
            badge.chip = {tr("not read"), Glyph::Unknown, Tone::Dim};
        } else if (!e.quorum) {
            badge.chip = {tr("quorum lost · %1/%2").arg(e.healthyMembers).arg(size),
                          Glyph::Critical, Tone::Critical};
        } else if (e.healthyMembers < size) {
            badge.chip = {tr("%1/%2 ok").arg(e.healthyMembers).arg(size), Glyph::Warning,
                          Tone::Warning};
        } else {
            badge.chip = {tr("quorum %1/%2").arg(e.healthyMembers).arg(size), Glyph::Ok, Tone::Ok};
        }
        Properties bp;
        bp.append({tr("Members"), QString::number(size)});
        bp.append({tr("Healthy"), QString::number(e.healthyMembers)});
        bp.append({tr("Quorum"), yesNo(e.quorum)});
        badge.info = info(tr("etcd quorum"), badge.chip.text, bp, false);
        add(std::move(badge));

        QString leaderId;
        for (const EtcdMemberState &m : e.members) {
            if (m.isLeader)
                leaderId = m.memberId;
        }
        QList<const EtcdMemberState *> members;
        for (const EtcdMemberState &m : e.members)
            members.append(&m);
        std::sort(members.begin(), members.end(),
                  [](auto *a, auto *b) { return naturalLess(a->name, b->name); });
        for (const EtcdMemberState *m : std::as_const(members)) {
            ItemSpec spec;
            spec.key = QStringLiteral("etcd:") + m->name;
            spec.kind = ItemKind::EtcdMember;
            spec.column = m->host;
            Card &c = spec.card;
            c.title = m->name;
            c.subtitle = m->version.isEmpty() ? QString() : tr("v%1").arg(m->version);
            setFreshness(c, m->freshness, m_now, !m->healthy);
            QString summary;
            const QString termIndex = tr("term %1 · index %2").arg(m->raftTerm).arg(m->raftIndex);
            if (!m->healthy) {
                c.glyph = Glyph::Critical;
                c.tone = Tone::Critical;
                c.frame = Card::Frame::Dashed;
                const QString why = !m->errors.isEmpty() ? m->errors.join(QStringLiteral("; "))
                                    : !m->freshness.error.isEmpty() ? m->freshness.error
                                                                    : tr("no answer");
                c.lines.append(boldLine(tr("unhealthy: %1").arg(why), Tone::Critical, Glyph::None));
                c.lines.append(Line::plain(tr("last ") + termIndex, Tone::Dim));
                summary = tr("unhealthy (%1)").arg(why);
            } else {
                const bool seesOther = !leaderId.isEmpty() && m->leaderId != leaderId;
                c.glyph = m->isLeader ? Glyph::Leader : Glyph::Follower;
                c.tone = seesOther ? Tone::Warning : Tone::Neutral;
                if (m->isLeader)
                    c.frame = Card::Frame::Double;
                c.lines.append(
                    seesOther
                        ? boldLine(tr("follower · sees leader %1").arg(m->leaderId), Tone::Warning,
                                   Glyph::Warning)
                        : boldLine(m->isLeader ? tr("LEADER · healthy") : tr("follower · healthy"),
                                   Tone::Neutral, Glyph::None));
                c.lines.append(Line::plain(termIndex, Tone::Dim));
                summary = tr("%1, healthy, term %2, index %3")
                              .arg(m->isLeader ? tr("leader") : tr("follower"))
                              .arg(m->raftTerm)
                              .arg(m->raftIndex);
                if (seesOther)
                    summary += tr(", sees another leader (%1)").arg(m->leaderId);
            }
            summary += staleSuffix(m->freshness, m_now);
            Properties p;
            p.append({tr("Member"), m->name});
            p.append({tr("Host"), m->host});
            p.append({tr("Member ID"), orDash(m->memberId)});
            p.append({tr("Healthy"), yesNo(m->healthy)});
            p.append({tr("Leader"), yesNo(m->isLeader)});
            p.append({tr("Sees leader"), orDash(m->leaderId)});
            p.append({tr("Raft term"), QString::number(m->raftTerm)});
            p.append({tr("Raft index"), QString::number(m->raftIndex)});
            p.append({tr("Version"), orDash(m->version)});
            p.append({tr("DB size"), bytes(m->dbSize)});
            if (!m->errors.isEmpty())
                p.append({tr("Errors"), m->errors.join(QStringLiteral("\n"))});
            addFreshness(p, m->freshness, m_now);
            spec.info = info(m->name, summary, p, isStale(m->freshness));
            add(std::move(spec));
        }
    }

    // pgpool's primary: the backend it sends writes to.
    QString pgpoolPrimary(const PgpoolInstanceState &p) const
    {
        for (const PgpoolBackend &b : p.backends) {
            if (b.role == u"primary" && b.status != u"down")
                return backendNode(b, m_s);
        }
        return {};
    }

    static Tone statusTone(const QString &status)
    {
        if (status == u"up")
            return Tone::Ok;
        if (status == u"down")
            return Tone::Critical;
        if (status == u"unused")
            return Tone::Dim;
        return Tone::Warning;
    }

    void pgpools()
    {
        QList<const PgpoolInstanceState *> pools;
        for (const PgpoolInstanceState &p : m_s.pgpools)
            pools.append(&p);
        std::sort(pools.begin(), pools.end(),
                  [](auto *a, auto *b) { return naturalLess(a->task, b->task); });
        const QString dbPrimary = m_dbPrimaries.size() == 1 ? m_dbPrimaries.first() : QString();

        // Each answering instance's view, to compare with the others.
        QMap<QString, QString> primaryOf;               // task -> node
        QMap<QString, QMap<QString, QString>> statusOf; // task -> node -> status
        for (const PgpoolInstanceState *p : std::as_const(pools)) {
            if (!p->reachable)
                continue;
            primaryOf.insert(p->task, pgpoolPrimary(*p));
            for (const PgpoolBackend &b : p->backends)
                statusOf[p->task].insert(backendNode(b, m_s), b.status);
        }
        QStringList noteParts;
        {
            QMap<QString, QStringList> byPrimary;
            for (auto it = primaryOf.cbegin(); it != primaryOf.cend(); ++it)
                byPrimary[it.value()].append(it.key());
            if (byPrimary.size() > 1) {
                QStringList says;
                for (auto it = primaryOf.cbegin(); it != primaryOf.cend(); ++it)
                    says.append(tr("%1 → %2").arg(it.key(), orDash(it.value())));
                noteParts.append(tr("pgpools disagree on the primary: %1 (PostgreSQL: %2)")
                                     .arg(says.join(QStringLiteral(", ")), orDash(dbPrimary)));
            }
        }

        const QList<Cell> grid = pgpoolGridColumns();
        bool anyWarning = false;
        for (const PgpoolInstanceState *p : std::as_const(pools)) {
            ItemSpec spec;
            spec.key = QStringLiteral("pgpool:") + p->task;
            spec.kind = ItemKind::Pgpool;
            spec.column = p->host;
            Card &c = spec.card;
            c.title = p->task;
            setFreshness(c, p->freshness, m_now, !p->reachable);
            const bool oldView = isStale(p->freshness) || !p->reachable;
            QStringList warnings;
            QList<const PgpoolBackend *> backends;
            for (const PgpoolBackend &b : p->backends)
                backends.append(&b);
            std::sort(backends.begin(), backends.end(), [this](auto *a, auto *b) {
                return naturalLess(backendNode(*a, m_s), backendNode(*b, m_s));
            });
            const QString myPrimary = pgpoolPrimary(*p);
            const auto up = std::count_if(backends.cbegin(), backends.cend(),
                                          [](auto *b) { return b->status == u"up"; });
            QString status;
            if (p->reachable) {
                status = tr("primary %1 · %2/%3 backends up")
                             .arg(myPrimary.isEmpty() ? tr("none") : myPrimary)
                             .arg(up)
                             .arg(backends.size());
                if (!dbPrimary.isEmpty() && myPrimary != dbPrimary)
                    warnings.append(
                        tr("writes go to %1, not the primary %2")
                            .arg(myPrimary.isEmpty() ? tr("no node") : myPrimary, dbPrimary));
                for (auto it = primaryOf.cbegin(); it != primaryOf.cend(); ++it) {
                    if (it.key() != p->task && it.value() != myPrimary)
                        warnings.append(tr("primary: %1 here, %2 on %3")
                                            .arg(orDash(myPrimary), orDash(it.value()), it.key()));
                }
            } else {
                status = p->freshness.error.isEmpty()
                             ? tr("unreachable")
                             : tr("unreachable: %1").arg(p->freshness.error);
                warnings.append(tr("does not answer; showing its last view"));
            }
            c.lines.append(p->reachable ? Line::plain(status)
                                        : boldLine(status, Tone::Critical, Glyph::Critical));
            Line header;
            header.kind = Line::Kind::Cells;
            header.cells = grid;
            const QStringList titles = {tr("node"), tr("status"), tr("role / pg_role"), tr("LB"),
                                        tr("selects")};
            for (int i = 0; i < header.cells.size(); ++i) {
                header.cells[i].text = titles.value(i);
                header.cells[i].tone = Tone::Dim;
            }
            c.lines.append(header);
            c.lines.append(spacer(int(backends.size())));

            QList<ItemSpec> rows;
            int row = 3;
            for (const PgpoolBackend *b : std::as_const(backends)) {
                const QString node = backendNode(*b, m_s);
                ItemSpec r;
                r.key = spec.key + QStringLiteral("/backend:") + node;
                r.kind = ItemKind::PgpoolBackend;
                r.parent = spec.key;
                r.row = row++;
                QList<Cell> cells = grid;
                QStringList rowWarnings;
                const Tone st = statusTone(b->status);
                cells[0].text = node;
                cells[0].bold = true;
                cells[1].text = b->status;
                cells[1].glyph = b->status == u"up"     ? Glyph::Up
                                 : b->status == u"down" ? Glyph::Down
                                                        : Glyph::Unknown;
                cells[1].tone = st;
                const bool roleMismatch = !b->pgRole.isEmpty() && b->role != b->pgRole;
                cells[2].text =
                    roleMismatch ? b->role + QStringLiteral(" / ") + b->pgRole : b->role;
                if (roleMismatch) {
                    const bool writesFail = b->role == u"primary" && b->pgRole == u"standby";
                    cells[2].tone = writesFail ? Tone::Critical : Tone::Warning;
                    cells[2].glyph = Glyph::Warning;
                    rowWarnings.append(
                        tr("%1 is %2, pgpool thinks %3").arg(node, b->pgRole, orDash(b->role)));
                } else if (b->role == u"primary") {
                    cells[2].glyph = Glyph::Primary;
                    cells[2].tone = Tone::Accent;
                }
                cells[3].text = QString::number(b->lbWeight, 'f', 2);
                cells[4].text = count(b->selectCount);
                if (p->reachable) {
                    for (auto it = statusOf.cbegin(); it != statusOf.cend(); ++it) {
                        if (it.key() == p->task || !it.value().contains(node))
                            continue;
                        const QString other = it.value().value(node);
                        if (other != b->status) {
                            rowWarnings.append(
                                tr("%1: %2 here, %3 on %4").arg(node, b->status, other, it.key()));
                            cells[1].tone = Tone::Warning;
                        }
                    }
                    const PostgresNodeState *db = pgNode(m_s, node);
                    if (db && db->reachable && b->status == u"down")
                        rowWarnings.append(tr("%1 detached, yet PostgreSQL answers").arg(node));
                }
                r.rowTone = rowWarnings.isEmpty() ? Tone::Neutral : Tone::Warning;
                r.cells = cells;
                warnings.append(rowWarnings);

                QString summary = tr("%1, %2").arg(b->status, orDash(b->role));
                if (!b->pgRole.isEmpty())
                    summary += tr(" (PostgreSQL: %1)").arg(b->pgRole);
                summary += tr(", weight %1, %2 selects")
                               .arg(QString::number(b->lbWeight, 'f', 2))
                               .arg(b->selectCount);
                if (!rowWarnings.isEmpty())
                    summary += tr("; disagrees: ") + rowWarnings.join(QStringLiteral("; "));
                summary += staleSuffix(p->freshness, m_now);
                Properties bp;
                bp.append({tr("pgpool"), p->task});
                bp.append({tr("Backend"), tr("%1 (node %2, %3:%4)")
                                              .arg(node)
                                              .arg(b->nodeId)
                                              .arg(b->hostname)
                                              .arg(b->port)});
                bp.append({tr("Status"), b->status});
                bp.append({tr("pgpool's check"), orDash(b->pgStatus)});
                bp.append({tr("Role (pgpool)"), orDash(b->role)});
                bp.append({tr("Role (PostgreSQL)"), orDash(b->pgRole)});
                bp.append({tr("LB weight"), QString::number(b->lbWeight)});
                bp.append({tr("Load balance node"), yesNo(b->loadBalanceNode)});
                bp.append({tr("Selects"), QString::number(b->selectCount)});
                bp.append({tr("Replication delay"), QString::number(b->replicationDelay)});
                bp.append({tr("Replication state"), orDash(b->replicationState)});
                bp.append({tr("Last status change"), orDash(b->lastStatusChange)});
                if (b->healthCheckTotal >= 0)
                    bp.append({tr("Health checks"), tr("%1 total, %2 ok, %3 failed, avg %4")
                                                        .arg(b->healthCheckTotal)
                                                        .arg(b->healthCheckSuccess)
                                                        .arg(b->healthCheckFail)
                                                        .arg(millis(b->healthCheckAverageMs))});
                bp.append({tr("Last health check"), orDash(b->lastHealthCheck)});
                for (const QString &w : std::as_const(rowWarnings))
                    bp.append({tr("Disagreement"), w});
                r.info = info(tr("%1 → %2").arg(p->task, node), summary, bp, oldView);
                rows.append(std::move(r));
            }

            warnings.removeDuplicates();
            if (warnings.isEmpty()) {
                c.lines.append(Line::plain(p->reachable && primaryOf.size() > 1
                                               ? tr("agrees with PostgreSQL and the other pgpool")
                                               : tr("agrees with PostgreSQL"),
                                           Tone::Dim, Glyph::Ok));
                c.lines.append(Line::plain(QString()));
            } else {
                anyWarning = true;
                c.lines.append(boldLine(warnings.at(0), Tone::Warning, Glyph::Warning));
                c.lines.append(
                    warnings.size() == 2 ? boldLine(warnings.at(1), Tone::Warning, Glyph::Warning)
                    : warnings.size() > 2
                        ? Line::plain(tr("… and %1 more (hover for all)").arg(warnings.size() - 1),
                                      Tone::Warning)
                        : Line::plain(QString()));
            }
            c.glyph = !p->reachable        ? Glyph::Critical
                      : warnings.isEmpty() ? Glyph::Ok
                                           : Glyph::Warning;
            c.tone = !p->reachable        ? Tone::Critical
                     : warnings.isEmpty() ? Tone::Neutral
                                          : Tone::Warning;
            if (!p->reachable)
                c.frame = Card::Frame::Dashed;
            QString summary = p->reachable ? status : tr("down (%1)").arg(status);
            if (!warnings.isEmpty())
                summary += tr("; disagrees: ") + warnings.join(QStringLiteral("; "));
            summary += staleSuffix(p->freshness, m_now);
            Properties pp;
            pp.append({tr("Task"), p->task});
            pp.append({tr("Host"), p->host});
            pp.append({tr("Reachable"), yesNo(p->reachable)});
            pp.append({tr("Primary (pgpool)"), orDash(myPrimary)});
            pp.append({tr("Primary (PostgreSQL)"), orDash(dbPrimary)});
            pp.append({tr("Backends up"), tr("%1 of %2").arg(up).arg(backends.size())});
            for (const QString &w : std::as_const(warnings))
                pp.append({tr("Disagreement"), w});
            addFreshness(pp, p->freshness, m_now);
            spec.info = info(tr("pgpool %1").arg(p->task), summary, pp, oldView);
            add(std::move(spec));
            for (ItemSpec &r : rows)
                add(std::move(r));
            if (noteParts.isEmpty() && p->reachable && !dbPrimary.isEmpty() &&
                myPrimary != dbPrimary)
                noteParts.append(
                    tr("%1 sends writes to %2, not the primary %3")
                        .arg(p->task, myPrimary.isEmpty() ? tr("no node") : myPrimary, dbPrimary));
        }
        noteParts.removeDuplicates();
        if (!noteParts.isEmpty()) {
            m_out.pgpoolNote = noteParts.join(QStringLiteral("; "));
            m_out.pgpoolNoteTone = Tone::Warning;
            m_out.pgpoolNoteGlyph = Glyph::Warning;
        } else if (anyWarning) {
            m_out.pgpoolNote = tr("an instance disagrees with PostgreSQL or the other pgpool");
            m_out.pgpoolNoteTone = Tone::Warning;
            m_out.pgpoolNoteGlyph = Glyph::Warning;
        } else if (!pools.isEmpty()) {
            m_out.pgpoolNote =
                pools.size() == 1 ? tr("the instance agrees with PostgreSQL")
                : pools.size() == 2
                    ? tr("both instances agree with PostgreSQL and each other")
                    : tr("all %1 instances agree with PostgreSQL and each other").arg(pools.size());
            m_out.pgpoolNoteTone = Tone::Dim;
            m_out.pgpoolNoteGlyph = Glyph::Ok;
        }
    }

    const CertificateState *certificateFor(const ProxyRoute &r, bool *exact) const
    {
        const QString via = QStringLiteral(" via ") + r.proxy;
        for (const CertificateState &c : m_s.certificates) {
            if (c.where.contains(r.host) && c.where.endsWith(via)) {
                *exact = true;
                return &c;
            }
        }
        *exact = false;
        for (const CertificateState &c : m_s.certificates) {
            if (c.where.contains(r.host) ||
                c.subjectAltNames.contains(QStringLiteral("DNS:") + r.host))
                return &c;
        }
        return nullptr;
    }

    void routes()
    {
        QList<const ProxyRoute *> routes;
        for (const ProxyRoute &r : m_s.routes)
            routes.append(&r);
        std::sort(routes.begin(), routes.end(), [](auto *a, auto *b) {
            return a->host == b->host ? naturalLess(a->proxy, b->proxy)
                                      : naturalLess(a->host, b->host);
        });
        QSet<QString> certKeys;
        for (const ProxyRoute *r : std::as_const(routes)) {
            ItemSpec spec;
            spec.key = QStringLiteral("route:") + r->host + u'@' + r->proxy;
            spec.kind = ItemKind::Route;
            spec.column = r->proxy;
            Card &c = spec.card;
            c.title = r->host;
            c.subtitle = tr("HTTPS");
            setFreshness(c, r->freshness, m_now, r->statusCode == 0);
            const bool answered = r->statusCode > 0;
            const Tone httpTone = !answered || r->statusCode >= 500 ? Tone::Critical
                                  : r->statusCode >= 400            ? Tone::Warning
                                                                    : Tone::Ok;
            const QString http =
                answered ? tr("route via %1: %2 in %3")
                               .arg(r->proxy)
                               .arg(r->statusCode)
                               .arg(millis(r->latencyMs))
                         : tr("route via %1: no answer%2")
                               .arg(r->proxy, r->error.isEmpty()
                                                  ? QString()
                                                  : QStringLiteral(" (") + r->error + u')');
            c.lines.append(Line::plain(http, httpTone == Tone::Ok ? Tone::Neutral : httpTone,
                                       glyphFor(httpTone)));
            const auto up = std::count_if(r->backends.cbegin(), r->backends.cend(),
                                          [](const ProxyBackend &b) { return b.up; });
            const Tone backendTone = r->backends.isEmpty() || up == 0 ? Tone::Critical
                                     : up < r->backends.size()        ? Tone::Warning
                                                                      : Tone::Ok;
            const QString service = tr("→ service %1: %2/%3 backends up")
                                        .arg(orDash(r->service))
                                        .arg(up)
                                        .arg(r->backends.size());
            c.lines.append(
                Line::plain(service, backendTone == Tone::Ok ? Tone::Neutral : backendTone,
                            backendTone == Tone::Ok ? Glyph::None : glyphFor(backendTone)));
            QList<ProxyBackend> sorted = r->backends;
            std::sort(sorted.begin(), sorted.end(),
                      [](const auto &a, const auto &b) { return naturalLess(a.name, b.name); });
            QList<Chip> chips;
            QStringList backendWords;
            for (const ProxyBackend &b : std::as_const(sorted)) {
                chips.append(
                    {b.name, b.up ? Glyph::Up : Glyph::Down, b.up ? Tone::Ok : Tone::Critical});
                backendWords.append(
                    tr("%1 %2").arg(b.name, b.up ? tr("up") : tr("down")) +
                    (b.detail.isEmpty() ? QString() : QStringLiteral(" (") + b.detail + u')'));
            }
            if (chips.isEmpty())
                chips.append({tr("no backends"), Glyph::None, Tone::Dim});
            c.lines.append(chipsLine(chips, 2));
            c.lines.append(spacer(1));
            c.tone = worse(httpTone == Tone::Ok ? Tone::Neutral : httpTone,
                           backendTone == Tone::Ok ? Tone::Neutral : backendTone);
            c.glyph = Glyph::Lock;

            bool exact = false;
            const CertificateState *cert = certificateFor(*r, &exact);
            ItemSpec certSpec;
            certSpec.kind = ItemKind::Certificate;
            certSpec.parent = spec.key;
            certSpec.row = 5;
            QList<Cell> cells{{0, 1, {}, Glyph::Lock, Tone::Neutral, false}};
            QString certWords;
            if (cert) {
                const QString candidate = QStringLiteral("cert:") + cert->where;
                certSpec.key =
                    certKeys.contains(candidate) ? spec.key + QStringLiteral("/cert") : candidate;
                certKeys.insert(certSpec.key);
                // Whole days of 24 h, as the certificate reader counts them.
                const qint64 secs = cert->notAfter.isValid() ? m_now.secsTo(cert->notAfter) : 0;
                const qint64 days = !cert->notAfter.isValid() ? cert->daysLeft
                                    : secs >= 0               ? secs / 86400
                                                              : -((-secs + 86399) / 86400);
                const Findings::Thresholds t;
                const bool expired = cert->notAfter.isValid() ? m_now >= cert->notAfter : days < 0;
                const Tone certTone = expired || days <= t.certCriticalDays ? Tone::Critical
                                      : days <= t.certWarningDays           ? Tone::Warning
                                      : days <= t.certInfoDays              ? Tone::Info
                                                                            : Tone::Neutral;
                certWords = expired     ? tr("certificate expired")
                            : days == 1 ? tr("certificate: 1 day left")
                                        : tr("certificate: %1 days left").arg(days);
                cells[0].text =
                    certWords +
                    (cert->notAfter.isValid()
                         ? tr(" (until %1)")
                               .arg(cert->notAfter.toUTC().toString(QStringLiteral("yyyy-MM-dd")))
                         : QString());
                cells[0].tone = certTone;
                if (certTone == Tone::Warning || certTone == Tone::Critical)
                    cells[0].glyph = glyphFor(certTone);
                certSpec.rowTone = certTone == Tone::Warning || certTone == Tone::Critical
                                       ? certTone
                                       : Tone::Neutral;
                c.tone = worse(c.tone, certSpec.rowTone);
                Properties cp;
                cp.append({tr("Where"), cert->where});
                cp.append({tr("Subject"), orDash(cert->subject)});
                cp.append({tr("Issuer"), orDash(cert->issuer)});
                cp.append({tr("Names"), cert->subjectAltNames.join(QStringLiteral(", "))});
                cp.append({tr("Not after"), when(cert->notAfter)});
                cp.append({tr("Days left"), QString::number(days)});
                if (!exact)
                    cp.append(
                        {tr("Matched"), tr("by host name, not read through %1").arg(r->proxy)});
                certSpec.info = info(tr("certificate of %1").arg(r->host), certWords, cp, false);
            } else {
                certSpec.key = spec.key + QStringLiteral("/cert");
                certWords = tr("certificate not read");
                cells[0].text = certWords;
                cells[0].tone = Tone::Dim;
                certSpec.info = info(tr("certificate of %1").arg(r->host), certWords, {}, false);
            }
            certSpec.cells = cells;

            QString summary =
                answered ? tr("HTTPS %1 in %2").arg(r->statusCode).arg(millis(r->latencyMs))
                         : tr("HTTPS no answer");
            summary += tr(", %1/%2 %3 backends up, %4")
                           .arg(up)
                           .arg(r->backends.size())
                           .arg(orDash(r->service), certWords);
            summary += staleSuffix(r->freshness, m_now);
            Properties p;
            p.append({tr("Domain"), r->host});
            p.append({tr("Proxy on"), r->proxy});
            p.append({tr("Service"), orDash(r->service)});
            p.append(
                {tr("HTTPS status"), answered ? QString::number(r->statusCode) : tr("no answer")});
            p.append({tr("Latency"), millis(r->latencyMs)});
            if (!r->error.isEmpty())
                p.append({tr("Error"), r->error});
            p.append({tr("Backends"), backendWords.join(QStringLiteral("\n"))});
            addFreshness(p, r->freshness, m_now);
            spec.info =
                info(tr("%1 via %2").arg(r->host, r->proxy), summary, p, isStale(r->freshness));
            add(std::move(spec));
            add(std::move(certSpec));
        }
    }

    void apps()
    {
        QList<const AppReplicaState *> apps;
        for (const AppReplicaState &a : m_s.appReplicas)
            apps.append(&a);
        std::sort(apps.begin(), apps.end(),
                  [](auto *a, auto *b) { return naturalLess(a->task, b->task); });
        for (const AppReplicaState *a : std::as_const(apps)) {
            ItemSpec spec;
            spec.key = QStringLiteral("app:") + a->task;
            spec.kind = ItemKind::App;
            Card &c = spec.card;
            c.title = a->task;
            // The address without its port: tiles are narrow (the port is in the tooltip).
            c.subtitle = a->host.section(u':', 0, 0);
            setFreshness(c, a->freshness, m_now, false);
            c.glyph = a->healthy ? Glyph::Ok : Glyph::Critical;
            c.tone = a->healthy ? Tone::Neutral : Tone::Critical;
            if (!a->healthy)
                c.frame = Card::Frame::Dashed;
            const QString text = a->healthy ? tr("healthy · %1").arg(millis(a->latencyMs))
                                            : tr("unhealthy · %1").arg(orDash(a->detail.trimmed()));
            c.lines.append(Line::plain(text, a->healthy ? Tone::Neutral : Tone::Critical));
            if (!c.age.isEmpty()) {
                // The age replaces the address: tiles are narrow.
                c.subtitle.clear();
            }
            QString summary = a->healthy ? tr("healthy, %1").arg(millis(a->latencyMs))
                                         : tr("unhealthy: %1").arg(orDash(a->detail.trimmed()));
            summary += staleSuffix(a->freshness, m_now);
            Properties p;
            p.append({tr("Task"), a->task});
            p.append({tr("Address"), orDash(a->host)});
            p.append({tr("Healthy"), yesNo(a->healthy)});
            p.append({tr("Latency"), millis(a->latencyMs)});
            p.append({tr("Check"), orDash(a->detail.trimmed())});
            addFreshness(p, a->freshness, m_now);
            spec.info = info(tr("app %1").arg(a->task), summary, p, isStale(a->freshness));
            add(std::move(spec));
        }
    }

    const ClusterSnapshot &m_s;
    const QDateTime m_now;
    QStringList m_dbPrimaries;
    OverviewContent m_out;
};

} // namespace

bool naturalLess(const QString &a, const QString &b)
{
    qsizetype i = 0;
    qsizetype j = 0;
    while (i < a.size() && j < b.size()) {
        if (a.at(i).isDigit() && b.at(j).isDigit()) {
            qsizetype ei = i;
            qsizetype ej = j;
            while (ei < a.size() && a.at(ei).isDigit())
                ++ei;
            while (ej < b.size() && b.at(ej).isDigit())
                ++ej;
            const QStringView na = QStringView(a).mid(i, ei - i);
            const QStringView nb = QStringView(b).mid(j, ej - j);
            const qulonglong va = na.toULongLong();
            const qulonglong vb = nb.toULongLong();
            if (va != vb)
                return va < vb;
            i = ei;
            j = ej;
            continue;
        }
        if (a.at(i) != b.at(j))
            return a.at(i) < b.at(j);
        ++i;
        ++j;
    }
    return a.size() - i < b.size() - j;
}

QList<Cell> pgpoolGridColumns()
{
    return {
        {0.00, 0.13, {}, Glyph::None, Tone::Neutral, false},
        {0.13, 0.17, {}, Glyph::None, Tone::Neutral, false},
        {0.30, 0.43, {}, Glyph::None, Tone::Neutral, false},
        {0.73, 0.11, {}, Glyph::None, Tone::Neutral, false},
        {0.84, 0.16, {}, Glyph::None, Tone::Neutral, false},
    };
}

OverviewContent buildOverviewContent(const ClusterSnapshot &snapshot, const QDateTime &now)
{
    return Builder(snapshot, now).build();
}

} // namespace Pilothouse::Internal
