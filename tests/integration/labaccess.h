#pragma once
// Test helper for integration tests; used on the test's main thread only.

#include "models/inventory.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

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
    // loads it. Returns false and sets error() when the lab is not there.
    bool open();
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

private:
    Pilothouse::Inventory m_inventory;
    QString m_error;
};
