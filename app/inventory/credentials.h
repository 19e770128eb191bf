#pragma once
// Credentials::read and the cache are safe from any thread; Keychain lives on
// the thread that creates it and never blocks it (its jobs are asynchronous).

#include "models/inventory.h"
#include "models/result.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>

namespace Pilothouse {

// The passwords the console uses for a cluster, by the file names of the
// inventory's secrets_dir: the keychain's copy when one was loaded into this
// process (Keychain::load), else the file. The keychain lets an operator
// delete the files once imported: nothing in clear on disk.
namespace Credentials {

// Every credential the console reads: pg_monitor_password, pg_repmgr_password,
// pg_app_password, pg_postgres_password, pcp_password.
QStringList names();

// Who the keychain entries belong to: "<stack>@<first host's address>", so
// that two inventory files of one cluster share them.
QString clusterKey(const Inventory &inventory);

// The value (trailing newlines removed), or an error that says where it was
// looked for.
Result<QString> read(const Inventory &inventory, const QString &name);

// What Keychain::load put into this process for the cluster (for masking).
QStringList loadedValues(const Inventory &inventory);

// The process-wide cache Keychain fills; tests clear it.
void remember(const QString &clusterKey, const QString &name, const QString &value);
void forgetLoaded(const QString &clusterKey);

} // namespace Credentials

// The OS keychain through QtKeychain (on Linux the Secret Service: GNOME
// Keyring, KWallet). Entries: service "Pilothouse", key
// "<clusterKey>/<name>". Every job has a timeout; without a D-Bus session
// bus (a headless root shell, the CI) nothing is asked and the result says so.
class Keychain final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Keychain)

public:
    explicit Keychain(QObject *parent = nullptr);
    ~Keychain() override;

    static QString serviceName();
    // False (with why) when no keychain can be reached from this process.
    static bool available(QString *why = nullptr);

    using Done = std::function<void(const Result<QStringList> &names)>;

    // Reads every credential of the cluster into the cache; `done` gets the
    // names found (none is not an error).
    void load(const Inventory &inventory, Done done, int timeoutMs = 5000);
    // Copies each credential file of secrets_dir into the keychain; `done`
    // gets the names stored. Files are left as they are.
    void importFiles(const Inventory &inventory, Done done, int timeoutMs = 10000);
    // Deletes the cluster's entries; `done` gets the names removed.
    void forget(const Inventory &inventory, Done done, int timeoutMs = 10000);

    // The same, waiting in a local event loop: for the command line only.
    static Result<QStringList> loadAndWait(const Inventory &inventory, int timeoutMs = 5000);

private:
    enum class Kind { Read, Write, Delete };
    void run(Kind kind, const Inventory &inventory, Done done, int timeoutMs);
};

} // namespace Pilothouse
