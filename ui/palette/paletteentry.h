#pragma once
// A plain value; copied freely between objects on the GUI thread.

#include <QList>
#include <QString>

namespace Pilothouse {

// One thing the command palette can jump to or run.
//   key    the object key the window acts on (`host:swarm-01`, `pg:pg-1`,
//          `pgpool:<task>`, `etcd:<name>`, `route:<host>@<proxy>`, `app:<task>`,
//          `service:<name>`, `cluster:<inventory path>`, `action:<id>`)
//   label  what a person reads first ("swarm-01")
//   kind   one of host, service, pg, pgpool, etcd, route, app, cluster, action;
//          it picks the icon and is shown as text beside the label
//   detail a short line of context ("10.213.0.11 · manager, leader")
// The query matches label, kind and detail.
struct PaletteEntry
{
    QString key;
    QString label;
    QString kind;
    QString detail;

    friend bool operator==(const PaletteEntry &, const PaletteEntry &) = default;
};

} // namespace Pilothouse
