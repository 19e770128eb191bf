#include "app/inventory/credentials.h"

#include <QEventLoop>
#include <QFile>
#include <QHash>
#include <QMutex>
#include <QMutexLocker>
#include <QTimer>
#include <qt6keychain/keychain.h>

#include <memory>
#include <optional>

namespace Pilothouse {
namespace {

// clusterKey → name → value, filled by Keychain::load.
struct Cache
{
    QMutex mutex;
    QHash<QString, QHash<QString, QString>> values;
};

Cache &cache()
{
    static Cache c;
    return c;
}

QString chomp(QString value)
{
    while (value.endsWith(u'\n') || value.endsWith(u'\r'))
        value.chop(1);
    return value;
}

QString describe(QKeychain::Error error, const QString &text)
{
    switch (error) {
    case QKeychain::NoBackendAvailable:
        return QStringLiteral("no keychain is available (%1)").arg(text);
    case QKeychain::AccessDeniedByUser:
    case QKeychain::AccessDenied:
        return QStringLiteral("the keychain refused access (%1)").arg(text);
    default:
        return text;
    }
}

} // namespace

namespace Credentials {

QStringList names()
{
    return {QStringLiteral("pg_monitor_password"), QStringLiteral("pg_repmgr_password"),
            QStringLiteral("pg_app_password"), QStringLiteral("pg_postgres_password"),
            QStringLiteral("pcp_password")};
}

QString clusterKey(const Inventory &inventory)
{
    const QString first =
        inventory.hosts.isEmpty() ? QStringLiteral("nohost") : inventory.hosts.constFirst().address;
    return inventory.settings.stack + u'@' + first;
}

Result<QString> read(const Inventory &inventory, const QString &name)
{
    {
        Cache &c = cache();
        QMutexLocker lock(&c.mutex);
        const auto cluster = c.values.constFind(clusterKey(inventory));
        if (cluster != c.values.cend()) {
            const auto value = cluster->constFind(name);
            if (value != cluster->cend())
                return *value;
        }
    }
    if (inventory.settings.secretsDir.isEmpty())
        return Error{QStringLiteral("%1 is not in the keychain (`pilothouse credentials import`) "
                                    "and the inventory names no secrets_dir")
                         .arg(name),
                     inventory.path, 0, 0};
    QFile file(inventory.settings.secretsDir + u'/' + name);
    if (!file.open(QIODevice::ReadOnly))
        return Error{QStringLiteral("%1 is not in the keychain and its file cannot be read: %2")
                         .arg(name, file.errorString()),
                     file.fileName(), 0, 0};
    return chomp(QString::fromUtf8(file.readAll()));
}

QStringList loadedValues(const Inventory &inventory)
{
    Cache &c = cache();
    QMutexLocker lock(&c.mutex);
    return c.values.value(clusterKey(inventory)).values();
}

void remember(const QString &key, const QString &name, const QString &value)
{
    Cache &c = cache();
    QMutexLocker lock(&c.mutex);
    c.values[key].insert(name, value);
}

void forgetLoaded(const QString &key)
{
    Cache &c = cache();
    QMutexLocker lock(&c.mutex);
    c.values.remove(key);
}

} // namespace Credentials

Keychain::Keychain(QObject *parent)
    : QObject(parent)
{}

Keychain::~Keychain() = default;

QString Keychain::serviceName()
{
    return QStringLiteral("Pilothouse");
}

bool Keychain::available(QString *why)
{
    if (qEnvironmentVariable("PILOTHOUSE_KEYCHAIN") == u"off") {
        if (why)
            *why = QStringLiteral("the keychain is turned off (PILOTHOUSE_KEYCHAIN=off)");
        return false;
    }
    // QtKeychain reaches the Secret Service over the D-Bus session bus; without
    // one it would try to start a bus through X11 first.
    if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS")) {
        if (why)
            *why = QStringLiteral("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), so no "
                                  "keychain can be reached");
        return false;
    }
    return true;
}

void Keychain::load(const Inventory &inventory, Done done, int timeoutMs)
{
    run(Kind::Read, inventory, std::move(done), timeoutMs);
}

void Keychain::importFiles(const Inventory &inventory, Done done, int timeoutMs)
{
    run(Kind::Write, inventory, std::move(done), timeoutMs);
}

void Keychain::forget(const Inventory &inventory, Done done, int timeoutMs)
{
    run(Kind::Delete, inventory, std::move(done), timeoutMs);
}

void Keychain::run(Kind kind, const Inventory &inventory, Done done, int timeoutMs)
{
    QString why;
    if (!available(&why)) {
        QTimer::singleShot(0, this, [done, why] { done(Error{why, {}, 0, 0}); });
        return;
    }
    // What each name is written as (Write): read from secrets_dir first, so
    // that a missing file stops nothing half-way.
    QHash<QString, QString> toWrite;
    if (kind == Kind::Write) {
        if (inventory.settings.secretsDir.isEmpty()) {
            QTimer::singleShot(0, this, [done, path = inventory.path] {
                done(Error{QStringLiteral("the inventory names no secrets_dir to import from"),
                           path, 0, 0});
            });
            return;
        }
        for (const QString &name : Credentials::names()) {
            QFile file(inventory.settings.secretsDir + u'/' + name);
            if (file.open(QIODevice::ReadOnly))
                toWrite.insert(name, chomp(QString::fromUtf8(file.readAll())));
        }
        if (toWrite.isEmpty()) {
            QTimer::singleShot(0, this, [done, dir = inventory.settings.secretsDir] {
                done(Error{QStringLiteral("no credential file (%1) in %2")
                               .arg(Credentials::names().join(QStringLiteral(", ")), dir),
                           dir, 0, 0});
            });
            return;
        }
    }

    struct State
    {
        QStringList pending;
        QStringList handled;
        bool finished = false;
    };
    auto state = std::make_shared<State>();
    state->pending = kind == Kind::Write ? QStringList(toWrite.keys()) : Credentials::names();
    state->pending.sort();
    const QString key = Credentials::clusterKey(inventory);
    if (kind == Kind::Delete)
        Credentials::forgetLoaded(key);

    auto finish = [state, done](const Result<QStringList> &r) {
        if (state->finished)
            return;
        state->finished = true;
        done(r);
    };
    auto *deadline = new QTimer(this);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, this, [finish, deadline, timeoutMs] {
        deadline->deleteLater();
        finish(
            Error{QStringLiteral("the keychain did not answer within %1 s").arg(timeoutMs / 1000.0),
                  {},
                  0,
                  0});
    });
    deadline->start(timeoutMs);

    // One job at a time: the Secret Service may ask the user to unlock once.
    // `next` starts the next job; each job's callback keeps it alive until
    // the last one has answered (it holds itself only weakly: no cycle).
    auto next = std::make_shared<std::function<void()>>();
    std::weak_ptr<std::function<void()>> weakNext = next;
    *next = [this, kind, key, toWrite, state, finish, deadline, weakNext] {
        if (state->finished)
            return;
        if (state->pending.isEmpty()) {
            deadline->stop();
            deadline->deleteLater();
            finish(state->handled);
            return;
        }
        const QString name = state->pending.takeFirst();
        QKeychain::Job *job = nullptr;
        if (kind == Kind::Read)
            job = new QKeychain::ReadPasswordJob(serviceName(), this);
        else if (kind == Kind::Write) {
            auto *write = new QKeychain::WritePasswordJob(serviceName(), this);
            write->setTextData(toWrite.value(name));
            job = write;
        } else
            job = new QKeychain::DeletePasswordJob(serviceName(), this);
        job->setAutoDelete(true);
        job->setInsecureFallback(false);
        job->setKey(key + u'/' + name);
        connect(
            job, &QKeychain::Job::finished, this,
            [kind, key, name, state, finish, next = weakNext.lock()](QKeychain::Job *j) {
                if (state->finished)
                    return;
                if (j->error() == QKeychain::NoError) {
                    state->handled.append(name);
                    if (kind == Kind::Read)
                        Credentials::remember(
                            key, name, static_cast<QKeychain::ReadPasswordJob *>(j)->textData());
                } else if (j->error() != QKeychain::EntryNotFound) {
                    finish(Error{
                        QStringLiteral("%1: %2").arg(name, describe(j->error(), j->errorString())),
                        {},
                        0,
                        0});
                    return;
                }
                (*next)();
            });
        job->start();
    };
    (*next)();
}

Result<QStringList> Keychain::loadAndWait(const Inventory &inventory, int timeoutMs)
{
    Keychain keychain;
    QEventLoop loop;
    std::optional<Result<QStringList>> out;
    keychain.load(
        inventory,
        [&](const Result<QStringList> &r) {
            out = r;
            loop.quit();
        },
        timeoutMs);
    if (!out)
        loop.exec();
    return *out;
}

} // namespace Pilothouse
