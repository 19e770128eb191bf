#pragma once
// Private to ui/overview. Pure functions: a snapshot in, what each diagram
// item shows out. Safe on any thread; used by OverviewScene on the GUI thread.

#include "models/clustersnapshot.h"
#include "ui/overview/overviewitems_p.h"

namespace Pilothouse::Internal {

enum class ItemKind {
    Host,
    Postgres,
    Replication,
    EtcdQuorum,
    EtcdMember,
    Pgpool,
    PgpoolBackend,
    Route,
    Certificate,
    App,
};

// One keyed item of the diagram as the snapshot says it should look.
struct ItemSpec
{
    QString key;
    ItemKind kind = ItemKind::Host;
    QString parent;    // for rows inside a card: the card's key
    int row = 0;       // for rows inside a card: which card row (0 = title)
    QString column;    // host column; empty for items laid out across the diagram
    Card card;         // cards
    QList<Cell> cells; // rows inside a card
    Tone rowTone = Tone::Neutral;
    Chip chip;     // badges
    EdgeLook edge; // replication links
    QString from;  // replication links: the upstream's key
    QString to;    // replication links: the standby's key
    ItemInfo info;
};

struct OverviewContent
{
    QStringList columns;   // host names, natural order
    QList<ItemSpec> items; // cards before the rows inside them
    QString pgpoolNote;
    Tone pgpoolNoteTone = Tone::Neutral;
    Glyph pgpoolNoteGlyph = Glyph::None;
};

OverviewContent buildOverviewContent(const ClusterSnapshot &snapshot, const QDateTime &now);

// "pg-10" after "pg-9".
bool naturalLess(const QString &a, const QString &b);

// Columns of a pgpool backend grid and of its header, as fractions of the row.
QList<Cell> pgpoolGridColumns();

} // namespace Pilothouse::Internal
