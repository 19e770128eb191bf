#pragma once
// Test helper for integration tests; used on the test's main thread only.

#include "models/inventory.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QTest>

#include <functional>

// A QTRY_* that times out waits twice its timeout again to report how long
// it would have taken (Qt 6.4). On the lab a wait may be minutes long, and a
// failing run then spends three times that: a failure costs its timeout once
// here, which keeps a broken lab from eating the CI's time limit.
#undef QTRY_TIMEOUT_DEBUG_IMPL
#define QTRY_TIMEOUT_DEBUG_IMPL(expr, timeoutValue, step)

// Reaches the running local lab the way an operator would: its inventory,
// SSH on 15122 with host keys checked, and the lab's secret files.
class LabAccess final
{
public:
    struct Run
    {
        int exitCode = -1;
        QByteArray out;
        QByteArray err;
        bool ok() const { return exitCode == 0; }
    };

    // Finds the inventory ($PILOTHOUSE_LAB_INVENTORY, else `lab status`) and
    // loads it. An earlier test may have left the lab healing (a standby
    // reconnecting, a pgpool catching up): `lab status` is asked again for up
    // to `waitMs`. Returns false and sets error() when the lab is not there.
    bool open(int waitMs = 240000);
    QString error() const { return m_error; }
    const Pilothouse::Inventory &inventory() const { return m_inventory; }

    // Runs a shell command on an inventory host over SSH (timeout in ms).
    Run ssh(const QString &host, const QString &command, int timeoutMs = 30000) const;
    // Runs a local program (curl, the lab script).
    static Run local(const QString &program, const QStringList &args, int timeoutMs = 30000);
    // A secret of the lab, read from its secrets_dir.
    QString secret(const QString &name) const;
    // The host (inventory name) that runs the running task of a service.
    QStringList nodesOf(const QString &service) const;

    // Polls `ready` (events processed in between) until it holds or
    // `timeoutMs` passed; returns its last value. Unlike QTRY_*, a failed
    // wait costs its timeout once, not three times.
    static bool waitUntil(const std::function<bool()> &ready, int timeoutMs, int pollMs = 1000);

    // The primary as `lab status` names it ("pg-1"), empty when the lab is
    // unhealthy; `status` receives the whole output.
    static QString labPrimary(QString *status = nullptr);

    // The SHA-256 (lower-case hex) of the leaf certificate a TLS handshake
    // with `address`:443 for `serverName` shows (openssl s_client); empty
    // when there is no handshake.
    static QString servedSha256(const QString &address, const QString &serverName);

    // Waits (≤ timeoutMs) for `lab status` to pass, then makes `node` the
    // primary with the console's own `pilothouse switchover` when another
    // node is, and waits for health again. Every lab test that needs the
    // lab's starting shape (pg-1 primary) calls it first, so that a test
    // that failed over earlier never decides the fate of the next one.
    bool ensurePrimary(const QString &node, int timeoutMs = 300000);

private:
    Pilothouse::Inventory m_inventory;
    QString m_error;
};
