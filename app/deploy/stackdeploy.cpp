#include "app/deploy/stackdeploy.h"

#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/deploy/acmecheck.h"
#include "app/operations/audittrail.h"
#include "app/operations/operationcontext.h"
#include "app/operations/operationlock.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QTimer>
#include <QUrlQuery>

namespace Pilothouse {
namespace {

const QString NamespaceLabel = QStringLiteral("com.docker.stack.namespace");

Error problem(const QString &message)
{
    return Error{message, {}, 0, 0};
}

QString compact(const QJsonValue &v)
{
    if (v.isUndefined())
        return QStringLiteral("(none)");
    if (v.isObject())
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    if (v.isArray())
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    const QString s = QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact));
    return s.mid(1, s.size() - 2);
}

StackChange makeChange(const QString &kind, const QString &name)
{
    StackChange c;
    c.kind = kind;
    c.name = name;
    return c;
}

bool sameValue(const QJsonValue &a, const QJsonValue &b)
{
    if (a.isDouble() && b.isDouble())
        return a.toDouble() == b.toDouble();
    return a == b;
}

bool isEmptyValue(const QJsonValue &v)
{
    return v.isNull() || (v.isBool() && !v.toBool()) || (v.isDouble() && v.toDouble() == 0) ||
           (v.isString() && v.toString().isEmpty()) || (v.isObject() && v.toObject().isEmpty()) ||
           (v.isArray() && v.toArray().isEmpty());
}

// Paths whose maps are the user's alone (the engine adds nothing to them):
// compared whole, so that a removed label is a difference too.
bool comparedWhole(const QString &path)
{
    static const QSet<QString> whole{
        QStringLiteral("Labels"),
        QStringLiteral("TaskTemplate.ContainerSpec.Labels"),
        QStringLiteral("TaskTemplate.LogDriver"),
        QStringLiteral("TaskTemplate.Placement"),
        QStringLiteral("TaskTemplate.Resources"),
    };
    return whole.contains(path);
}

// Fields a stack file can drop: present in the engine's spec but not wanted
// means the file removed them.
bool removable(const QString &path)
{
    static const QSet<QString> fields{
        QStringLiteral("TaskTemplate.ContainerSpec.Args"),
        QStringLiteral("TaskTemplate.ContainerSpec.Command"),
        QStringLiteral("TaskTemplate.ContainerSpec.Env"),
        QStringLiteral("TaskTemplate.ContainerSpec.Hostname"),
        QStringLiteral("TaskTemplate.ContainerSpec.Dir"),
        QStringLiteral("TaskTemplate.ContainerSpec.User"),
        QStringLiteral("TaskTemplate.ContainerSpec.Mounts"),
        QStringLiteral("TaskTemplate.ContainerSpec.Healthcheck"),
        QStringLiteral("TaskTemplate.ContainerSpec.Secrets"),
        QStringLiteral("TaskTemplate.ContainerSpec.Configs"),
        QStringLiteral("TaskTemplate.ContainerSpec.Hosts"),
        QStringLiteral("TaskTemplate.ContainerSpec.StopSignal"),
        QStringLiteral("TaskTemplate.ContainerSpec.StopGracePeriod"),
        QStringLiteral("TaskTemplate.ContainerSpec.Init"),
        QStringLiteral("TaskTemplate.LogDriver"),
        QStringLiteral("TaskTemplate.RestartPolicy"),
        QStringLiteral("EndpointSpec.Ports"),
    };
    return fields.contains(path);
}

void collectDifferences(const QJsonValue &wanted, const QJsonValue &stored, const QString &at,
                        QStringList *out)
{
    if (wanted.isObject() && stored.isObject() && !comparedWhole(at)) {
        const QJsonObject w = wanted.toObject(), s = stored.toObject();
        for (auto it = w.begin(); it != w.end(); ++it)
            collectDifferences(it.value(), s.value(it.key()),
                               at.isEmpty() ? it.key() : at + u'.' + it.key(), out);
        for (auto it = s.begin(); it != s.end(); ++it) {
            const QString path = at.isEmpty() ? it.key() : at + u'.' + it.key();
            if (!w.contains(it.key()) && removable(path))
                out->append(QStringLiteral("%1: %2 -> (none)").arg(path, compact(it.value())));
        }
        return;
    }
    if (wanted.isArray() && stored.isArray()) {
        const QJsonArray w = wanted.toArray(), s = stored.toArray();
        bool same = w.size() == s.size();
        for (qsizetype i = 0; same && i < w.size(); ++i) {
            QStringList inner;
            collectDifferences(w.at(i), s.at(i), at, &inner);
            same = inner.isEmpty();
        }
        if (!same)
            out->append(QStringLiteral("%1: %2 -> %3").arg(at, compact(stored), compact(wanted)));
        return;
    }
    // The engine leaves out what is empty or false (NoNewPrivileges: false).
    if (stored.isUndefined() && isEmptyValue(wanted))
        return;
    if (!sameValue(wanted, stored))
        out->append(QStringLiteral("%1: %2 -> %3").arg(at, compact(stored), compact(wanted)));
}

QString filterQuery(const QString &path, const QJsonObject &filters, bool status = false)
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("filters"),
                   QString::fromUtf8(QJsonDocument(filters).toJson(QJsonDocument::Compact)));
    if (status)
        q.addQueryItem(QStringLiteral("status"), QStringLiteral("true"));
    return path + u'?' + q.toString(QUrl::FullyEncoded);
}

} // namespace

// ---------------------------------------------------------------- report

QString StackChange::actionName(Action action)
{
    switch (action) {
    case Action::Create:
        return QStringLiteral("create");
    case Action::Update:
        return QStringLiteral("update");
    case Action::Unchanged:
        return QStringLiteral("unchanged");
    case Action::External:
        return QStringLiteral("external");
    case Action::Conflict:
        return QStringLiteral("conflict");
    }
    return {};
}

int StackDeployReport::count(StackChange::Action action) const
{
    return int(std::count_if(changes.cbegin(), changes.cend(),
                             [action](const StackChange &c) { return c.action == action; }));
}

bool StackDeployReport::changesNothing() const
{
    return count(StackChange::Action::Create) == 0 && count(StackChange::Action::Update) == 0;
}

QString StackDeployReport::planText() const
{
    QString out = QStringLiteral("stack %1 from %2 through %3:\n").arg(stack, file, manager);
    for (const StackChange &c : changes) {
        out += QStringLiteral("  %1 %2 %3\n")
                   .arg(StackChange::actionName(c.action).leftJustified(9), c.kind.leftJustified(7), c.name);
        for (const QString &d : c.differences)
            out += QStringLiteral("      %1\n").arg(d);
    }
    for (const QString &n : notInFile)
        out += QStringLiteral("  keep      service %1 (not in the file; remove it by hand if it is not needed)\n").arg(n);
    if (changesNothing())
        out += QStringLiteral("nothing to change: the Swarm already runs this file\n");
    else
        out += QStringLiteral("%1 to create, %2 to update, %3 unchanged\n")
                   .arg(count(StackChange::Action::Create))
                   .arg(count(StackChange::Action::Update))
                   .arg(count(StackChange::Action::Unchanged));
    return out;
}

QJsonObject StackDeployReport::toJson() const
{
    QJsonArray cs;
    for (const StackChange &c : changes) {
        QJsonObject o{{QStringLiteral("kind"), c.kind},
                      {QStringLiteral("name"), c.name},
                      {QStringLiteral("action"), StackChange::actionName(c.action)},
                      {QStringLiteral("differences"), QJsonArray::fromStringList(c.differences)}};
        if (c.valueWanted)
            o.insert(QStringLiteral("value_wanted"), true);
        if (!c.state.isEmpty())
            o.insert(QStringLiteral("state"), c.state);
        if (c.desiredTasks >= 0) {
            o.insert(QStringLiteral("desired_tasks"), c.desiredTasks);
            o.insert(QStringLiteral("running_tasks"), c.runningTasks);
        }
        cs.append(o);
    }
    QJsonObject o{{QStringLiteral("stack"), stack},
                  {QStringLiteral("file"), file},
                  {QStringLiteral("manager"), manager},
                  {QStringLiteral("dry_run"), dryRun},
                  {QStringLiteral("ok"), ok},
                  {QStringLiteral("changes_nothing"), changesNothing()},
                  {QStringLiteral("changes"), cs},
                  {QStringLiteral("not_in_file"), QJsonArray::fromStringList(notInFile)}};
    if (!error.isEmpty())
        o.insert(QStringLiteral("error"), error);
    if (runbook.startedAt.isValid())
        o.insert(QStringLiteral("runbook"), runbook.toJson());
    return o;
}

// ---------------------------------------------------------------- the run

struct StackDeploy::Remote
{
    QHash<QString, QString> networkIds;   // name -> id
    QHash<QString, QJsonObject> networks; // name -> inspect
    QHash<QString, QString> secretIds;
    QHash<QString, QString> configIds;
    QHash<QString, QJsonObject> configs; // name -> inspect (configs keep their data)
    QHash<QString, QJsonObject> services; // name -> inspect
    QSet<QString> created;                // "kind/name" created by this run
};

StackDeploy::StackDeploy(Inventory inventory, StackPlan plan, StackDeployOptions options,
                         QObject *parent)
    : QObject(parent)
    , m_inventory(std::move(inventory))
    , m_plan(std::move(plan))
    , m_options(std::move(options))
    , m_remote(std::make_unique<Remote>())
{
    qRegisterMetaType<StackDeployReport>();
    qRegisterMetaType<StackChange>();
    m_report.stack = m_plan.stack;
    m_report.file = m_plan.file;
    m_report.dryRun = m_options.dryRun;
}

StackDeploy::~StackDeploy() = default;

QStringList StackDeploy::specDifferences(const QJsonObject &wanted, const QJsonObject &stored)
{
    QStringList out;
    collectDifferences(wanted, stored, {}, &out);
    return out;
}

void StackDeploy::start()
{
    if (m_runbook)
        return;
    const QString operation = QStringLiteral("deploy stack %1").arg(m_plan.stack);
    const auto members = EtcdClusterProbe::membersOf(m_inventory);
    if (!m_options.dryRun) {
        m_audit = new AuditTrail(AuditTrail::defaultFilePath(m_inventory), this);
        if (!members.isEmpty())
            m_audit->setMirror(members, AuditTrail::etcdPrefix(m_inventory.settings.stack));
        if (!members.isEmpty())
            m_lock = new OperationLock(members, OperationLock::keyFor(m_inventory.settings.stack),
                                       OperationLockHolder::current(operation, m_options.reason),
                                       this);
    }
    m_context = new OperationContext(m_inventory, m_audit, m_lock, operation, m_options.reason, this);
    m_runbook = new Runbook(buildTree(), this);
    connect(m_runbook, &Runbook::stepStarted, this, &StackDeploy::stepStarted);
    connect(m_runbook, &Runbook::stepFinished, this, &StackDeploy::stepFinished);
    if (m_lock)
        connect(m_lock, &OperationLock::lost, m_runbook,
                [this](const Error &e) { m_runbook->cancel(QStringLiteral("the operation lock was lost: ") + e.message); });
    connect(m_runbook, &Runbook::finished, this, [this](const RunbookReport &r) {
        m_report.runbook = r;
        m_report.ok = r.succeeded();
        if (!r.succeeded())
            m_report.error = r.message;
        if (m_context)
            m_context->recordOperation(m_plan.stack, m_report.dryRun ? QStringLiteral("dry run") : QString(),
                                       m_report.ok ? QStringLiteral("succeeded") : m_report.error,
                                       m_report.ok);
        auto done = [this] { Q_EMIT finished(m_report); };
        if (m_audit)
            m_audit->flush(this, [done](const Result<int> &) { done(); });
        else
            done();
    });
    m_runbook->start();
}

void StackDeploy::cancel(const QString &why)
{
    if (m_runbook)
        m_runbook->cancel(why.isEmpty() ? QStringLiteral("cancelled by the operator") : why);
}

RunbookNode StackDeploy::buildTree()
{
    std::vector<RunbookNode> steps;
    steps.push_back(RunbookNode::step(QStringLiteral("find a Swarm manager"), m_options.requestTimeoutMs * 2,
                                      [this](RunbookStep::Done done) { findManager(std::move(done)); }));
    steps.push_back(RunbookNode::step(QStringLiteral("read the stack and plan"), m_options.requestTimeoutMs * 2,
                                      [this](RunbookStep::Done done) { readAndPlan(std::move(done), false); }));
    if (m_options.dryRun)
        return RunbookNode::sequence(QStringLiteral("deploy %1 (dry run)").arg(m_plan.stack), std::move(steps));

    RunbookNode lock = RunbookNode::step(QStringLiteral("take the operation lock"), 30000,
                                         [this](RunbookStep::Done done) { takeLock(std::move(done)); });
    lock.withUndo(
        [this](RunbookStep::Done done) {
            if (!m_lock || !m_lockHeld) {
                done(QStringLiteral("not held"));
                return;
            }
            auto connections = std::make_shared<QList<QMetaObject::Connection>>();
            auto finish = [connections, done](Result<QString> r) {
                for (const auto &c : std::as_const(*connections))
                    QObject::disconnect(c);
                done(std::move(r));
            };
            connections->append(connect(m_lock, &OperationLock::released, this,
                                        [finish] { finish(QStringLiteral("released")); }));
            connections->append(connect(m_lock, &OperationLock::failed, this,
                                        [finish](const Error &e) { finish(e); }));
            m_lock->release();
        },
        RunbookStep::UndoPolicy::Always, 15000);
    steps.push_back(std::move(lock));
    steps.push_back(RunbookNode::step(QStringLiteral("check the plan still holds"), m_options.requestTimeoutMs * 2,
                                      [this](RunbookStep::Done done) { readAndPlan(std::move(done), true); }));

    const QList<std::pair<QString, const QList<StackObject> *>> kinds{
        {QStringLiteral("network"), &m_plan.networks},
        {QStringLiteral("secret"), &m_plan.secrets},
        {QStringLiteral("config"), &m_plan.configs},
    };
    for (const auto &entry : kinds) {
        const QString kind = entry.first; // a named copy: lambdas capture it
        const QList<StackObject> *objects = entry.second;
        for (int i = 0; i < objects->size(); ++i) {
            // External objects are never touched, except a secret whose value was given.
            if (objects->at(i).external &&
                !(kind == u"secret" && m_options.secretValues.contains(objects->at(i).name)))
                continue;
            RunbookNode n = RunbookNode::step(QStringLiteral("%1 %2").arg(kind, objects->at(i).name),
                                              m_options.requestTimeoutMs,
                                              [this, kind, i](RunbookStep::Done done) {
                                                  createObject(kind, i, std::move(done));
                                              });
            n.withUndo([this, kind, i](RunbookStep::Done done) { removeCreated(kind, i, std::move(done)); });
            steps.push_back(std::move(n));
        }
    }
    for (int i = 0; i < m_plan.services.size(); ++i) {
        RunbookNode n = RunbookNode::step(QStringLiteral("service %1").arg(m_plan.services.at(i).name),
                                          m_options.convergeTimeoutMs + m_options.requestTimeoutMs,
                                          [this, i](RunbookStep::Done done) { applyService(i, std::move(done)); });
        n.withUndo([this, i](RunbookStep::Done done) { undoService(i, std::move(done)); },
                   RunbookStep::UndoPolicy::OnAbort, m_options.convergeTimeoutMs + m_options.requestTimeoutMs);
        steps.push_back(std::move(n));
    }
    return RunbookNode::sequence(QStringLiteral("deploy %1").arg(m_plan.stack), std::move(steps));
}

void StackDeploy::request(const QByteArray &method, const QString &path, const QJsonObject &body,
                          std::function<void(const Result<QJsonDocument> &)> done)
{
    const QByteArray bytes = body.isEmpty() ? QByteArray() : QJsonDocument(body).toJson(QJsonDocument::Compact);
    m_context->docker(m_manager, method, path, bytes, m_options.requestTimeoutMs,
                      [done, method, path](const Result<DockerResponse> &r) {
                          if (!r) {
                              done(r.error());
                              return;
                          }
                          const DockerResponse &resp = r.value();
                          const QJsonDocument doc = QJsonDocument::fromJson(resp.body);
                          if (resp.status < 200 || resp.status >= 300) {
                              const QString why = doc.object().value(QStringLiteral("message")).toString();
                              done(problem(QStringLiteral("%1 %2: the engine answered %3: %4")
                                               .arg(QString::fromLatin1(method), path.section(u'?', 0, 0))
                                               .arg(resp.status)
                                               .arg(why.isEmpty() ? QString::fromUtf8(resp.body.left(300)) : why)));
                              return;
                          }
                          done(doc);
                      });
}

void StackDeploy::findManager(RunbookStep::Done done)
{
    QStringList hosts;
    for (const InventoryHost &h : m_inventory.hosts)
        hosts.append(h.name);
    tryManager(hosts, {}, std::move(done));
}

// The first of `hosts`, in inventory order, whose engine is a reachable Swarm
// manager; `reasons` says why each one before it was not.
void StackDeploy::tryManager(QStringList hosts, QStringList reasons, RunbookStep::Done done)
{
    if (hosts.isEmpty()) {
        done(problem(QStringLiteral("no host is a reachable Swarm manager: %1").arg(reasons.join(QStringLiteral("; ")))));
        return;
    }
    const QString host = hosts.takeFirst();
    m_context->docker(host, "GET", QStringLiteral("/info"), {}, m_options.requestTimeoutMs,
                      [this, host, hosts, reasons, done](const Result<DockerResponse> &r) mutable {
                          if (!r) {
                              reasons.append(r.error().message); // names the host
                              tryManager(hosts, reasons, done);
                              return;
                          }
                          const QJsonObject swarm = QJsonDocument::fromJson(r.value().body)
                                                        .object().value(QStringLiteral("Swarm")).toObject();
                          if (swarm.value(QStringLiteral("LocalNodeState")).toString() != u"active" ||
                              !swarm.value(QStringLiteral("ControlAvailable")).toBool()) {
                              reasons.append(host + QStringLiteral(": not a Swarm manager (state %1)")
                                                        .arg(swarm.value(QStringLiteral("LocalNodeState")).toString()));
                              tryManager(hosts, reasons, done);
                              return;
                          }
                          m_manager = host;
                          m_report.manager = host;
                          done(QStringLiteral("%1 is a manager").arg(host));
                      });
}

void StackDeploy::readAndPlan(RunbookStep::Done done, bool again)
{
    auto remote = std::make_shared<Remote>();
    auto pending = std::make_shared<int>(4);
    auto failed = std::make_shared<std::optional<Error>>();
    auto finish = [this, remote, pending, failed, done, again] {
        if (--*pending > 0)
            return;
        if (*failed) {
            done(**failed);
            return;
        }
        remote->created = m_remote->created;
        *m_remote = *remote;

        StackDeployReport &r = m_report;
        r.changes.clear();
        r.notInFile.clear();
        auto add = [&r](StackChange c) { r.changes.append(std::move(c)); };
        for (const StackObject &n : std::as_const(m_plan.networks)) {
            StackChange c = makeChange(QStringLiteral("network"), n.name);
            const auto it = m_remote->networks.constFind(n.name);
            if (n.external) {
                c.action = it == m_remote->networks.cend() ? StackChange::Action::Conflict : StackChange::Action::External;
                if (c.action == StackChange::Action::Conflict)
                    c.differences.append(QStringLiteral("external, but no network of that name exists: create it first"));
            } else if (it == m_remote->networks.cend()) {
                c.action = StackChange::Action::Create;
            } else {
                const QJsonObject have = *it;
                for (const QString &key : {QStringLiteral("Driver"), QStringLiteral("Attachable"), QStringLiteral("Internal")}) {
                    if (have.value(key) != n.body.value(key))
                        c.differences.append(QStringLiteral("%1: %2 -> %3").arg(key, compact(have.value(key)), compact(n.body.value(key))));
                }
                c.action = c.differences.isEmpty() ? StackChange::Action::Unchanged : StackChange::Action::Conflict;
                if (!c.differences.isEmpty())
                    c.differences.append(QStringLiteral("a network cannot be changed in place: remove it (and what uses it) first"));
            }
            add(c);
        }
        for (const StackObject &s : std::as_const(m_plan.secrets)) {
            StackChange c = makeChange(QStringLiteral("secret"), s.name);
            const bool exists = m_remote->secretIds.contains(s.name);
            if (s.external && !exists && m_options.secretValues.contains(s.name)) {
                c.action = StackChange::Action::Create;
                c.differences.append(QStringLiteral("external: created from the value given (never written to disk)"));
            } else if (s.external) {
                c.action = exists ? StackChange::Action::External : StackChange::Action::Conflict;
                c.valueWanted = !exists;
                if (!exists)
                    c.differences.append(QStringLiteral("external, but no secret of that name exists: create it first "
                                                        "or give its value"));
            } else if (exists) {
                c.action = StackChange::Action::Unchanged;
                c.differences.append(QStringLiteral("exists (a secret cannot be read back or changed; to rotate it, give it a new name)"));
            } else {
                c.action = StackChange::Action::Create;
            }
            add(c);
        }
        for (const StackObject &s : std::as_const(m_plan.configs)) {
            StackChange c = makeChange(QStringLiteral("config"), s.name);
            const auto it = m_remote->configs.constFind(s.name);
            if (s.external) {
                c.action = it != m_remote->configs.cend() ? StackChange::Action::External : StackChange::Action::Conflict;
                if (c.action == StackChange::Action::Conflict)
                    c.differences.append(QStringLiteral("external, but no config of that name exists: create it first"));
            } else if (it == m_remote->configs.cend()) {
                c.action = StackChange::Action::Create;
            } else {
                QFile f(s.sourceFile);
                const QByteArray data = f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
                const QByteArray have = QByteArray::fromBase64(
                    it->value(QStringLiteral("Spec")).toObject().value(QStringLiteral("Data")).toString().toLatin1());
                c.action = data == have ? StackChange::Action::Unchanged : StackChange::Action::Conflict;
                if (data != have)
                    c.differences.append(QStringLiteral("exists with other content; configs cannot be changed: give the new content a new name"));
            }
            add(c);
        }
        QSet<QString> inFile;
        for (const StackService &s : std::as_const(m_plan.services)) {
            inFile.insert(s.name);
            StackChange c = makeChange(QStringLiteral("service"), s.name);
            const auto it = m_remote->services.constFind(s.name);
            if (it == m_remote->services.cend()) {
                c.action = StackChange::Action::Create;
            } else {
                const QJsonObject stored = it->value(QStringLiteral("Spec")).toObject();
                if (stored.value(QStringLiteral("Labels")).toObject().value(NamespaceLabel).toString() != m_plan.stack) {
                    c.action = StackChange::Action::Conflict;
                    c.differences.append(QStringLiteral("a service of that name exists outside the stack %1").arg(m_plan.stack));
                } else {
                    c.differences = specDifferences(resolvedSpec(s), stored);
                    c.action = c.differences.isEmpty() ? StackChange::Action::Unchanged : StackChange::Action::Update;
                }
            }
            // Traefik's ACME resolvers: a DNS challenge that cannot authenticate
            // stops the plan (certificates would silently stop renewing).
            QStringList acmeWarnings;
            const QStringList acme = AcmeCheck::problems(s.spec, &acmeWarnings);
            for (const QString &p : acme)
                c.differences.append(QStringLiteral("%1 (%2:%3)").arg(p, m_plan.file).arg(s.line));
            for (const QString &w : std::as_const(acmeWarnings))
                c.differences.append(
                    QStringLiteral("warning: %1 (%2:%3)").arg(w, m_plan.file).arg(s.line));
            if (!acme.isEmpty())
                c.action = StackChange::Action::Conflict;
            c.state = QStringLiteral("planned");
            add(c);
        }
        for (auto it = m_remote->services.cbegin(); it != m_remote->services.cend(); ++it) {
            if (!inFile.contains(it.key()) &&
                it->value(QStringLiteral("Spec")).toObject().value(QStringLiteral("Labels")).toObject().value(NamespaceLabel).toString() == m_plan.stack)
                r.notInFile.append(it.key());
        }
        r.notInFile.sort();
        m_firstDeploy = m_remote->services.isEmpty();

        const QString plan = r.planText();
        if (!again) {
            m_shownPlan = plan;
            Q_EMIT planReady(r);
        } else if (plan != m_shownPlan) {
            done(problem(QStringLiteral("the stack changed while waiting for the lock; nothing was changed. "
                                        "The plan now is:\n%1").arg(plan)));
            return;
        }
        const int conflicts = r.count(StackChange::Action::Conflict);
        if (conflicts > 0) {
            QStringList what;
            for (const StackChange &c : std::as_const(r.changes)) {
                if (c.action == StackChange::Action::Conflict)
                    what.append(QStringLiteral("%1 %2: %3").arg(c.kind, c.name, c.differences.join(QStringLiteral("; "))));
            }
            done(problem(QStringLiteral("nothing was changed: %1").arg(what.join(QStringLiteral(" | ")))));
            return;
        }
        done(QStringLiteral("%1 to create, %2 to update, %3 unchanged")
                 .arg(r.count(StackChange::Action::Create))
                 .arg(r.count(StackChange::Action::Update))
                 .arg(r.count(StackChange::Action::Unchanged)));
    };
    auto onError = [failed](const Error &e) {
        if (!*failed)
            *failed = e;
    };

    QStringList networkNames, secretNames, configNames;
    for (const StackObject &o : std::as_const(m_plan.networks))
        networkNames.append(o.name);
    for (const StackObject &o : std::as_const(m_plan.secrets))
        secretNames.append(o.name);
    for (const StackObject &o : std::as_const(m_plan.configs))
        configNames.append(o.name);
    // All networks: services refer to networks by ID in what the engine stores.
    request("GET", QStringLiteral("/networks"), {}, [remote, finish, onError](const Result<QJsonDocument> &r) {
        if (!r)
            onError(r.error());
        else
            for (const QJsonValue &v : r.value().array()) {
                const QJsonObject n = v.toObject();
                remote->networkIds.insert(n.value(QStringLiteral("Name")).toString(), n.value(QStringLiteral("Id")).toString());
                remote->networks.insert(n.value(QStringLiteral("Name")).toString(), n);
            }
        finish();
    });
    auto byName = [](const QStringList &names) {
        return QJsonObject{{QStringLiteral("name"), QJsonArray::fromStringList(names)}};
    };
    auto readIds = [this, finish, onError](const QString &path, const QStringList &names,
                                            std::function<void(const QJsonObject &)> keep) {
        if (names.isEmpty()) {
            finish();
            return;
        }
        request("GET", path, {}, [names, keep, finish, onError](const Result<QJsonDocument> &r) {
            if (!r) {
                onError(r.error());
            } else {
                for (const QJsonValue &v : r.value().array()) {
                    const QJsonObject o = v.toObject();
                    // The name filter matches prefixes: keep exact names only.
                    if (names.contains(o.value(QStringLiteral("Spec")).toObject().value(QStringLiteral("Name")).toString()))
                        keep(o);
                }
            }
            finish();
        });
    };
    readIds(filterQuery(QStringLiteral("/secrets"), byName(secretNames)), secretNames, [remote](const QJsonObject &o) {
        remote->secretIds.insert(o.value(QStringLiteral("Spec")).toObject().value(QStringLiteral("Name")).toString(),
                                 o.value(QStringLiteral("ID")).toString());
    });
    readIds(filterQuery(QStringLiteral("/configs"), byName(configNames)), configNames, [remote](const QJsonObject &o) {
        const QString name = o.value(QStringLiteral("Spec")).toObject().value(QStringLiteral("Name")).toString();
        remote->configIds.insert(name, o.value(QStringLiteral("ID")).toString());
        remote->configs.insert(name, o);
    });
    // The stack's services, and any service that has one of the file's names.
    QStringList serviceNames;
    for (const StackService &s : std::as_const(m_plan.services))
        serviceNames.append(s.name);
    request("GET", QStringLiteral("/services"), {}, [this, remote, serviceNames, finish, onError](const Result<QJsonDocument> &r) {
        if (!r) {
            onError(r.error());
        } else {
            for (const QJsonValue &v : r.value().array()) {
                const QJsonObject s = v.toObject();
                const QJsonObject spec = s.value(QStringLiteral("Spec")).toObject();
                const QString name = spec.value(QStringLiteral("Name")).toString();
                if (serviceNames.contains(name) ||
                    spec.value(QStringLiteral("Labels")).toObject().value(NamespaceLabel).toString() == m_plan.stack)
                    remote->services.insert(name, s);
            }
        }
        finish();
    });
}

QJsonObject StackDeploy::resolvedSpec(const StackService &service) const
{
    QJsonObject spec = service.spec;
    QJsonObject task = spec.value(QStringLiteral("TaskTemplate")).toObject();
    QJsonObject container = task.value(QStringLiteral("ContainerSpec")).toObject();
    for (const auto &[key, nameKey, idKey, ids] :
         {std::tuple{QStringLiteral("Secrets"), QStringLiteral("SecretName"), QStringLiteral("SecretID"), &m_remote->secretIds},
          std::tuple{QStringLiteral("Configs"), QStringLiteral("ConfigName"), QStringLiteral("ConfigID"), &m_remote->configIds}}) {
        QJsonArray refs = container.value(key).toArray();
        if (refs.isEmpty())
            continue;
        for (auto ref : refs) {
            QJsonObject o = ref.toObject();
            o.insert(idKey, ids->value(o.value(nameKey).toString()));
            ref = o;
        }
        container.insert(key, refs);
    }
    // The engine stores networks by ID.
    QJsonArray networks = task.value(QStringLiteral("Networks")).toArray();
    for (auto n : networks) {
        QJsonObject o = n.toObject();
        const QString id = m_remote->networkIds.value(o.value(QStringLiteral("Target")).toString());
        if (!id.isEmpty())
            o.insert(QStringLiteral("Target"), id);
        n = o;
    }
    task.insert(QStringLiteral("Networks"), networks);
    task.insert(QStringLiteral("ContainerSpec"), container);
    spec.insert(QStringLiteral("TaskTemplate"), task);
    return spec;
}

StackChange *StackDeploy::change(const QString &kind, const QString &name)
{
    for (StackChange &c : m_report.changes) {
        if (c.kind == kind && c.name == name)
            return &c;
    }
    return nullptr;
}

void StackDeploy::takeLock(RunbookStep::Done done)
{
    if (!m_lock) {
        done(QStringLiteral("the inventory has no etcd: no lock to take"));
        return;
    }
    auto connections = std::make_shared<QList<QMetaObject::Connection>>();
    auto finish = [connections, done](Result<QString> r) {
        for (const auto &c : std::as_const(*connections))
            QObject::disconnect(c);
        done(std::move(r));
    };
    connections->append(connect(m_lock, &OperationLock::acquired, this, [this, finish] {
        m_lockHeld = true;
        finish(QString(QStringLiteral("held by ") + m_lock->me().describe()));
    }));
    connections->append(connect(m_lock, &OperationLock::refused, this,
                                [finish](const OperationLockHolder &, const QString &message) { finish(problem(message)); }));
    connections->append(connect(m_lock, &OperationLock::failed, this, [this, finish](const Error &e) {
        // The stack that runs etcd is not there yet: its first deploy cannot be locked.
        if (m_firstDeploy)
            finish(QStringLiteral("no lock: etcd does not answer and the stack is not deployed yet (%1)").arg(e.message));
        else
            finish(e);
    }));
    m_lock->acquire();
}

void StackDeploy::createObject(const QString &kind, int index, RunbookStep::Done done)
{
    const QList<StackObject> &objects = kind == u"network" ? m_plan.networks
                                        : kind == u"secret" ? m_plan.secrets
                                                            : m_plan.configs;
    const StackObject &o = objects.at(index);
    StackChange *c = change(kind, o.name);
    if (!c || c->action != StackChange::Action::Create) {
        done(QStringLiteral("exists"));
        return;
    }
    QJsonObject body = o.body;
    if (kind != u"network") {
        QByteArray data;
        if (kind == u"secret" && o.external) {
            // Typed in: external to the stack, so not labelled as one of its own.
            data = m_options.secretValues.value(o.name);
            body = QJsonObject{{QStringLiteral("Name"), o.name},
                               {QStringLiteral("Labels"), QJsonObject{{QStringLiteral("io.pilothouse.typed"), QStringLiteral("true")}}}};
        } else {
            QFile f(o.sourceFile);
            if (!f.open(QIODevice::ReadOnly)) {
                done(problem(QStringLiteral("cannot read %1 for the %2 %3: %4").arg(o.sourceFile, kind, o.name, f.errorString())));
                return;
            }
            data = f.readAll();
        }
        const QString encoded = QString::fromLatin1(data.toBase64());
        if (kind == u"secret" && m_audit) {
            // The request goes to the audit trail: its content must not.
            m_audit->masker().addSecret(encoded);
            m_audit->masker().addSecret(QString::fromUtf8(data).trimmed());
        }
        body.insert(QStringLiteral("Data"), encoded);
    }
    const QString path = QStringLiteral("/%1s/create").arg(kind);
    request("POST", path, body, [this, kind, name = o.name, done](const Result<QJsonDocument> &r) {
        if (!r) {
            done(r.error());
            return;
        }
        const QString id = r.value().object().value(kind == u"network" ? QStringLiteral("Id") : QStringLiteral("ID")).toString();
        (kind == u"network" ? m_remote->networkIds : kind == u"secret" ? m_remote->secretIds : m_remote->configIds).insert(name, id);
        m_remote->created.insert(kind + u'/' + name);
        if (StackChange *c = change(kind, name)) {
            c->state = QStringLiteral("done");
            Q_EMIT changeUpdated(*c);
        }
        done(QStringLiteral("created %1").arg(id.left(12)));
    });
}

void StackDeploy::removeCreated(const QString &kind, int index, RunbookStep::Done done)
{
    const QList<StackObject> &objects = kind == u"network" ? m_plan.networks
                                        : kind == u"secret" ? m_plan.secrets
                                                            : m_plan.configs;
    const QString name = objects.at(index).name;
    if (!m_remote->created.contains(kind + u'/' + name)) {
        done(QStringLiteral("not created by this run"));
        return;
    }
    const QString id = (kind == u"network" ? m_remote->networkIds : kind == u"secret" ? m_remote->secretIds : m_remote->configIds).value(name);
    request("DELETE", QStringLiteral("/%1s/%2").arg(kind, id), {}, [done, kind, name](const Result<QJsonDocument> &r) {
        if (!r)
            done(r.error());
        else
            done(QStringLiteral("removed the %1 %2 this run created").arg(kind, name));
    });
}

void StackDeploy::applyService(int index, RunbookStep::Done done)
{
    const StackService &s = m_plan.services.at(index);
    StackChange *c = change(QStringLiteral("service"), s.name);
    if (!c || c->action == StackChange::Action::Unchanged) {
        if (c) {
            c->state = QStringLiteral("done");
            Q_EMIT changeUpdated(*c);
        }
        done(QStringLiteral("unchanged"));
        return;
    }
    const QJsonObject spec = resolvedSpec(s);
    c->state = QStringLiteral("applying");
    Q_EMIT changeUpdated(*c);
    if (c->action == StackChange::Action::Create) {
        request("POST", QStringLiteral("/services/create"), spec, [this, index, name = s.name, done](const Result<QJsonDocument> &r) {
            if (!r) {
                done(r.error());
                return;
            }
            QJsonObject created{{QStringLiteral("ID"), r.value().object().value(QStringLiteral("ID")).toString()}};
            m_remote->services.insert(name, created);
            m_remote->created.insert(QStringLiteral("service/") + name);
            converge(index, done, false);
        });
        return;
    }
    const QJsonObject stored = m_remote->services.value(s.name);
    const QString id = stored.value(QStringLiteral("ID")).toString();
    const QString updateBefore = stored.value(QStringLiteral("UpdateStatus")).toObject().value(QStringLiteral("StartedAt")).toString();
    const qint64 version = stored.value(QStringLiteral("Version")).toObject().value(QStringLiteral("Index")).toInteger();
    request("POST", QStringLiteral("/services/%1/update?version=%2").arg(id).arg(version), spec,
            [this, index, done, updateBefore](const Result<QJsonDocument> &r) {
                if (!r) {
                    done(r.error());
                    return;
                }
                converge(index, done, false, updateBefore.isEmpty() ? QStringLiteral("none") : updateBefore);
            });
}

void StackDeploy::converge(int index, RunbookStep::Done done, bool rollingBack, const QString &updateBefore)
{
    const QString name = m_plan.services.at(index).name;
    const QString id = m_remote->services.value(name).value(QStringLiteral("ID")).toString();
    auto deadline = std::make_shared<QElapsedTimer>();
    deadline->start();
    auto poll = std::make_shared<std::function<void()>>();
    QPointer<StackDeploy> self(this);
    *poll = [self, this, id, name, index, done, deadline, poll, rollingBack, updateBefore] {
        if (!self)
            return;
        request("GET", filterQuery(QStringLiteral("/services"), QJsonObject{{QStringLiteral("id"), QJsonArray{id}}}, true), {},
                [self, this, id, name, index, done, deadline, poll, rollingBack, updateBefore](const Result<QJsonDocument> &r) {
                    if (!self)
                        return;
                    StackChange *c = change(QStringLiteral("service"), name);
                    if (!r) {
                        done(r.error());
                        *poll = nullptr;
                        return;
                    }
                    const QJsonObject s = r.value().array().at(0).toObject();
                    const QJsonObject status = s.value(QStringLiteral("ServiceStatus")).toObject();
                    const QJsonObject update = s.value(QStringLiteral("UpdateStatus")).toObject();
                    const int desired = status.value(QStringLiteral("DesiredTasks")).toInt(-1);
                    const int running = status.value(QStringLiteral("RunningTasks")).toInt(-1);
                    const QString state = update.value(QStringLiteral("State")).toString();
                    if (c) {
                        c->desiredTasks = desired;
                        c->runningTasks = running;
                        c->updateState = state;
                        c->state = rollingBack ? QStringLiteral("rolling back") : QStringLiteral("converging");
                        Q_EMIT changeUpdated(*c);
                    }
                    m_remote->services.insert(name, s);
                    const bool settled = state.isEmpty() || state == u"completed" || state == u"rollback_completed";
                    // A global service has no desired tasks until the orchestrator has
                    // looked at the nodes; give it a few seconds before taking 0 for an answer.
                    const bool global = s.value(QStringLiteral("Spec")).toObject().value(QStringLiteral("Mode")).toObject().contains(QStringLiteral("Global"));
                    const bool scheduled = desired > 0 || !global || deadline->elapsed() > 5000;
                    // Right after an update request the engine may still show the last
                    // update's "completed": wait for this one to start. A change that
                    // replaces no task (labels only) starts none: 3 s without one settles it.
                    const QString startedAt = update.value(QStringLiteral("StartedAt")).toString();
                    const bool waitingForStart = !updateBefore.isEmpty() && startedAt == (updateBefore == u"none" ? QString() : updateBefore) &&
                                                 deadline->elapsed() < 3000;
                    if (settled && scheduled && !waitingForStart && desired >= 0 && running == desired) {
                        if (c) {
                            c->state = rollingBack ? QStringLiteral("rolled back") : QStringLiteral("done");
                            Q_EMIT changeUpdated(*c);
                        }
                        if (rollingBack || state != u"rollback_completed")
                            done(QStringLiteral("%1/%2 tasks running%3").arg(running).arg(desired)
                                     .arg(state.isEmpty() ? QString() : QStringLiteral(", update ") + state));
                        else
                            done(problem(QStringLiteral("%1: the engine rolled the update back: %2")
                                             .arg(name, update.value(QStringLiteral("Message")).toString())));
                        *poll = nullptr;
                        return;
                    }
                    if (!rollingBack && (state == u"paused" || state == u"rollback_paused")) {
                        done(problem(QStringLiteral("%1: the update is %2: %3")
                                         .arg(name, state, update.value(QStringLiteral("Message")).toString())));
                        *poll = nullptr;
                        return;
                    }
                    if (deadline->elapsed() > m_options.convergeTimeoutMs) {
                        done(problem(QStringLiteral("%1: %2 of %3 tasks running after %4 s (update %5)")
                                         .arg(name).arg(running).arg(desired)
                                         .arg(m_options.convergeTimeoutMs / 1000)
                                         .arg(state.isEmpty() ? QStringLiteral("none") : state)));
                        *poll = nullptr;
                        return;
                    }
                    QTimer::singleShot(m_options.pollMs, this, [poll] {
                        if (*poll)
                            (*poll)();
                    });
                });
    };
    (*poll)();
}

void StackDeploy::undoService(int index, RunbookStep::Done done)
{
    const QString name = m_plan.services.at(index).name;
    const QJsonObject s = m_remote->services.value(name);
    const QString id = s.value(QStringLiteral("ID")).toString();
    if (m_remote->created.contains(QStringLiteral("service/") + name)) {
        request("DELETE", QStringLiteral("/services/%1").arg(id), {}, [done, name](const Result<QJsonDocument> &r) {
            if (!r)
                done(r.error());
            else
                done(QStringLiteral("removed %1, which this run created").arg(name));
        });
        return;
    }
    StackChange *c = change(QStringLiteral("service"), name);
    if (!c || c->action != StackChange::Action::Update || id.isEmpty()) {
        done(QStringLiteral("nothing to undo"));
        return;
    }
    // Read the current version, then ask the engine for the previous spec.
    request("GET", QStringLiteral("/services/%1").arg(id), {}, [this, index, id, done](const Result<QJsonDocument> &r) {
        if (!r) {
            done(r.error());
            return;
        }
        const QJsonObject now = r.value().object();
        const QString state = now.value(QStringLiteral("UpdateStatus")).toObject().value(QStringLiteral("State")).toString();
        if (state.startsWith(u"rollback_")) {
            done(QStringLiteral("the engine already rolled it back (%1)").arg(state));
            return;
        }
        if (!now.contains(QStringLiteral("PreviousSpec"))) {
            done(QStringLiteral("the engine has no previous spec: nothing to roll back"));
            return;
        }
        const qint64 version = now.value(QStringLiteral("Version")).toObject().value(QStringLiteral("Index")).toInteger();
        request("POST", QStringLiteral("/services/%1/update?version=%2&rollback=previous").arg(id).arg(version),
                now.value(QStringLiteral("Spec")).toObject(),
                [this, index, done](const Result<QJsonDocument> &rr) {
                    if (!rr) {
                        done(rr.error());
                        return;
                    }
                    converge(index, done, true);
                });
    });
}

} // namespace Pilothouse
