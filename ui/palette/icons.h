#pragma once
// Functions for the GUI thread (QIcon needs a QGuiApplication).

#include <QIcon>
#include <QStringList>

namespace Pilothouse {

// The compiled-in SVG set, ":/icons/<name>.svg" (pilothouse_resources must be
// linked into the executable). Names:
//   states  ok, warning, critical, stale, unknown
//   roles   primary, standby, leader
//   kinds   host, service, pg, pgpool, etcd, route, app, cluster, action
//   window  pilothouse (the application), open, lab
// Returns a null icon for a name outside the set.
QIcon stateIcon(const QString &name);

// The icon for a PaletteEntry kind or an object key's prefix; "unknown" for
// kinds without one.
QIcon kindIcon(const QString &kind);

// Every name stateIcon() knows, in the order above.
QStringList iconNames();

} // namespace Pilothouse
