// The command palette: its model under QAbstractItemModelTester while the
// query and the entries change, the ranking, the keyboard and the mouse; and
// the icon set. Saves screenshots of the palette (light and dark) and a sheet
// of the icons for a person to look at.

#include "ui/palette/commandpalette.h"
#include "ui/palette/icons.h"
#include "ui/palette/paletteentrymodel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QBoxLayout>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QMainWindow>
#include <QMenuBar>
#include <QPainter>
#include <QSignalSpy>
#include <QStatusBar>
#include <QStyle>
#include <QStyleFactory>
#include <QSvgRenderer>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include "tests/guisupport.h"

using namespace Pilothouse;

namespace {

PaletteEntry entry(const char *key, const char *label, const char *kind, const char *detail)
{
    return {QString::fromUtf8(key), QString::fromUtf8(label), QString::fromUtf8(kind),
            QString::fromUtf8(detail)};
}

// What the window will list for the lab: three hosts and what runs on them.
QList<PaletteEntry> labEntries()
{
    return {
        entry("cluster:/var/lib/pilothouse-lab/inventory.yaml", "lab", "cluster",
              "3 hosts · stack pilothouse"),
        entry("host:swarm-01", "swarm-01", "host", "10.213.0.11 · manager, leader"),
        entry("host:swarm-02", "swarm-02", "host", "10.213.0.12 · manager"),
        entry("host:swarm-03", "swarm-03", "host", "10.213.0.13 · manager"),
        entry("service:pilothouse_pg-1", "pilothouse_pg-1", "service", "1/1 · swarm-01"),
        entry("service:pilothouse_pg-2", "pilothouse_pg-2", "service", "1/1 · swarm-02"),
        entry("service:pilothouse_pgpool", "pilothouse_pgpool", "service", "2/2 replicas"),
        entry("service:pilothouse_app", "pilothouse_app", "service", "6/6 replicas"),
        entry("pg:pg-1", "pg-1", "pg", "primary · timeline 3 · swarm-01"),
        entry("pg:pg-2", "pg-2", "pg", "standby · lag 0 B · swarm-02"),
        entry("pg:pg-3", "pg-3", "pg", "standby · lag 120 B · swarm-03"),
        entry("pgpool:pilothouse_pgpool.1", "pgpool.1", "pgpool", "3 backends up · swarm-01"),
        entry("pgpool:pilothouse_pgpool.2", "pgpool.2", "pgpool", "3 backends up · swarm-03"),
        entry("etcd:etcd-1", "etcd-1", "etcd", "leader · term 4 · swarm-01"),
        entry("etcd:etcd-2", "etcd-2", "etcd", "follower · swarm-02"),
        entry("etcd:etcd-3", "etcd-3", "etcd", "follower · swarm-03"),
        entry("route:app.pilothouse.lab@haproxy", "app.pilothouse.lab", "route",
              "HTTPS → pilothouse_app · 6/6 up · certificate 83 days"),
        entry("app:pilothouse_app.1", "app.1", "app", "healthy · 4 ms · swarm-01"),
        entry("app:pilothouse_app.2", "app.2", "app", "healthy · 5 ms · swarm-02"),
        entry("action:lab-up", "Start the local lab", "action", "lab up"),
        entry("action:open-inventory", "Open inventory…", "action", "Ctrl+O"),
    };
}

QStringList keys(const PaletteEntryModel &model)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row)
        out.append(model.keyAt(row));
    return out;
}

// Dark colours as a desktop's dark theme would set them.
QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x31), base(0x1e, 0x1f, 0x22), text(0xe6, 0xe6, 0xe6);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x65, 0xca));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::PlaceholderText, QColor(0x8c, 0x8f, 0x94));
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Light, QColor(0x45, 0x48, 0x4d));
    p.setColor(QPalette::Midlight, QColor(0x3a, 0x3d, 0x42));
    p.setColor(QPalette::Mid, QColor(0x33, 0x35, 0x3a));
    p.setColor(QPalette::Dark, QColor(0x5a, 0x5e, 0x66));
    p.setColor(QPalette::Shadow, Qt::black);
    p.setColor(QPalette::Link, QColor(0x6c, 0xa8, 0xf0));
    for (const auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, QColor(0x80, 0x82, 0x86));
    return p;
}

// A stand-in for the console's window, so the palette's pictures do not
// depend on how the window is laid out this week.
void fillBackdrop(QMainWindow *window)
{
    window->setWindowTitle(QStringLiteral("Pilothouse"));
    window->menuBar()->addMenu(QStringLiteral("&File"));
    window->menuBar()->addMenu(QStringLiteral("&View"));
    window->menuBar()->addMenu(QStringLiteral("&Help"));
    auto *clusters = new QListWidget(window);
    new QListWidgetItem(stateIcon(QStringLiteral("pilothouse")), QStringLiteral("Welcome"),
                        clusters);
    new QListWidgetItem(stateIcon(QStringLiteral("cluster")), QStringLiteral("lab"), clusters);
    clusters->setCurrentRow(1);
    clusters->setMaximumWidth(200);
    auto *hosts = new QTableWidget(3, 4, window);
    hosts->setHorizontalHeaderLabels({QStringLiteral("Host"), QStringLiteral("Address"),
                                      QStringLiteral("Role"), QStringLiteral("State")});
    hosts->horizontalHeader()->setStretchLastSection(true);
    for (int n = 0; n < 3; ++n) {
        hosts->setItem(n, 0,
                       new QTableWidgetItem(stateIcon(QStringLiteral("host")),
                                            QStringLiteral("swarm-0%1").arg(n + 1)));
        hosts->setItem(n, 1, new QTableWidgetItem(QStringLiteral("10.213.0.1%1").arg(n + 1)));
        hosts->setItem(n, 2,
                       new QTableWidgetItem(n == 0 ? QStringLiteral("manager, leader")
                                                   : QStringLiteral("manager")));
        hosts->setItem(
            n, 3, new QTableWidgetItem(stateIcon(QStringLiteral("ok")), QStringLiteral("ready")));
    }
    hosts->resizeColumnsToContents();
    auto *central = new QWidget(window);
    auto *layout = new QHBoxLayout(central);
    layout->addWidget(clusters);
    layout->addWidget(hosts, 1);
    window->setCentralWidget(central);
    window->statusBar()->showMessage(QStringLiteral("lab · 3 hosts"));
}

// The palette is its own top-level popup; draw it where it sits over the window.
QImage composed(QWidget *window, QWidget *popup)
{
    QImage image = window->grab().toImage();
    QPainter painter(&image);
    const QPoint at = popup->mapToGlobal(QPoint()) - window->mapToGlobal(QPoint());
    painter.drawPixmap(at, popup->grab());
    return image;
}

int paintedPixels(const QImage &image)
{
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x)
            count += qAlpha(image.pixel(x, y)) > 0 ? 1 : 0;
    }
    return count;
}

} // namespace

class TestPalette final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(QApplication::style()->standardPalette());
    }

    void modelUnderTester()
    {
        PaletteEntryModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QList<PaletteEntry> entries = labEntries();
        model.setEntries(entries);
        QCOMPARE(model.rowCount(), entries.size());
        QCOMPARE(model.keyAt(0), entries.first().key); // empty query: given order

        QSignalSpy moved(&model, &QAbstractItemModel::rowsMoved);
        for (const char *query : {"s", "sw", "sw2", "swarm-02", "", "pg", "pg1", "zzz", "etcd", "e",
                                  "", "leader", "pg 2", "  "}) {
            model.setQuery(QString::fromUtf8(query));
            if (QTest::currentTestFailed())
                return;
        }
        QCOMPARE(model.rowCount(), entries.size());
        QVERIFY(!moved.isEmpty()); // reordered by moves, not by reset

        // A row followed across queries keeps pointing at its entry.
        model.setQuery(QStringLiteral("s"));
        const QPersistentModelIndex swarm02 =
            model.index(model.rowOfKey(QStringLiteral("host:swarm-02")));
        QVERIFY(swarm02.isValid());
        model.setQuery(QStringLiteral("sw2"));
        QCOMPARE(swarm02.row(), 0);
        QCOMPARE(swarm02.data(PaletteEntryModel::KeyRole).toString(),
                 QStringLiteral("host:swarm-02"));

        // New entries while a query is set: rows move, change, go and come.
        model.setQuery(QStringLiteral("pg"));
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QList<PaletteEntry> changed = entries;
        changed.removeAt(9);                                      // pg:pg-2 gone
        changed[8].detail = QStringLiteral("standby · swarm-01"); // pg-1 changed
        changed.append(entry("pg:pg-4", "pg-4", "pg", "standby · swarm-01"));
        std::reverse(changed.begin(), changed.end());
        QSignalSpy changedRows(&model, &QAbstractItemModel::dataChanged);
        model.setEntries(changed);
        QVERIFY(keys(model).contains(QStringLiteral("pg:pg-4")));
        QVERIFY(!keys(model).contains(QStringLiteral("pg:pg-2")));
        QVERIFY(!changedRows.isEmpty());
        QCOMPARE(reset.size(), 0); // never reset
        model.setEntries({});
        QCOMPARE(model.rowCount(), 0);
        model.setEntries(entries);
        model.setQuery(QString());
        QCOMPARE(keys(model).size(), entries.size());
    }

    void twentyClusters()
    {
        // 20 clusters' worth of entries: each keystroke refilters them all.
        QList<PaletteEntry> many;
        for (int c = 0; c < 20; ++c) {
            for (const PaletteEntry &e : labEntries()) {
                PaletteEntry copy = e;
                copy.key += QStringLiteral("#%1").arg(c);
                copy.detail += QStringLiteral(" · cluster-%1").arg(c);
                many.append(copy);
            }
        }
        PaletteEntryModel model;
        QListView view; // a view holding persistent indexes, as in the palette
        view.setModel(&model);
        model.setEntries(many);
        QElapsedTimer timer;
        qint64 worst = 0;
        for (const char *query : {"s", "sw", "swa", "swar", "swarm", "swarm-", "swarm-0",
                                  "swarm-02", "swarm-0", "p", "pg", "pg1", ""}) {
            timer.start();
            model.setQuery(QString::fromUtf8(query));
            worst = std::max(worst, timer.nsecsElapsed());
        }
        qInfo("%lld entries: slowest keystroke %.2f ms", qint64(many.size()), double(worst) / 1e6);
        // Typing must feel instant; the bound leaves room for a loaded machine.
        QVERIFY(worst < 150'000'000);
        QCOMPARE(model.rowCount(), many.size());
    }

    void duplicateKeysKeepTheFirst()
    {
        PaletteEntryModel model;
        model.setEntries(
            {entry("host:a", "a", "host", "first"), entry("host:a", "a", "host", "x")});
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0).data(PaletteEntryModel::DetailRole).toString(),
                 QStringLiteral("first"));
    }

    void ranking_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<QString>("first");
        QTest::newRow("letters in order")
            << QStringLiteral("sw2") << QStringLiteral("host:swarm-02");
        QTest::newRow("whole label")
            << QStringLiteral("swarm-02") << QStringLiteral("host:swarm-02");
        QTest::newRow("upper case")
            << QStringLiteral("SWARM-03") << QStringLiteral("host:swarm-03");
        QTest::newRow("pg node") << QStringLiteral("pg1") << QStringLiteral("pg:pg-1");
        QTest::newRow("kind first") << QStringLiteral("pg") << QStringLiteral("pg:pg-1");
        QTest::newRow("two terms") << QStringLiteral("pg 2") << QStringLiteral("pg:pg-2");
        QTest::newRow("kind as shown") << QStringLiteral("postgres") << QStringLiteral("pg:pg-1");
        QTest::newRow("pgpool") << QStringLiteral("pgpool")
                                << QStringLiteral("pgpool:pilothouse_pgpool.1");
        QTest::newRow("detail") << QStringLiteral("10.213.0.13") << QStringLiteral("host:swarm-03");
        QTest::newRow("route") << QStringLiteral("https")
                               << QStringLiteral("route:app.pilothouse.lab@haproxy");
        QTest::newRow("action") << QStringLiteral("lab")
                                << QStringLiteral("cluster:/var/lib/pilothouse-lab/inventory.yaml");
        QTest::newRow("word start") << QStringLiteral("start") << QStringLiteral("action:lab-up");
    }

    void ranking()
    {
        QFETCH(QString, query);
        QFETCH(QString, first);
        PaletteEntryModel model;
        model.setEntries(labEntries());
        model.setQuery(query);
        QVERIFY2(model.rowCount() > 0, qPrintable(query));
        QCOMPARE(model.keyAt(0), first);
        for (int row = 1; row < model.rowCount(); ++row) {
            QVERIFY(model.index(row - 1).data(PaletteEntryModel::ScoreRole).toInt() >=
                    model.index(row).data(PaletteEntryModel::ScoreRole).toInt());
        }
    }

    void tiers()
    {
        // Prefix > word start > substring > letters in order; given in the
        // opposite order.
        PaletteEntryModel model;
        model.setEntries({entry("x:nomatch", "quiet", "x", ""), entry("x:seq", "sweeper", "x", ""),
                          entry("x:sub", "user", "x", ""), entry("x:word", "my-server", "x", ""),
                          entry("x:prefix", "server", "x", "")});
        model.setQuery(QStringLiteral("ser"));
        QCOMPARE(keys(model), (QStringList{QStringLiteral("x:prefix"), QStringLiteral("x:word"),
                                           QStringLiteral("x:sub"), QStringLiteral("x:seq")}));
        QCOMPARE(model.index(0).data(PaletteEntryModel::LabelMatchesRole).value<QList<int>>(),
                 (QList<int>{0, 1, 2}));
        QCOMPARE(model.index(3).data(PaletteEntryModel::LabelMatchesRole).value<QList<int>>(),
                 (QList<int>{0, 2, 6}));
        QCOMPARE(PaletteEntryModel::score(QStringLiteral("zz"), labEntries().first()), -1);
        // Letters whose lower case is longer keep positions in range.
        QList<int> positions;
        QVERIFY(PaletteEntryModel::score(QStringLiteral("stanb"),
                                         entry("host:ist", "İİstanbul", "host", "İ"),
                                         &positions) > 0);
        QCOMPARE(positions, (QList<int>{2, 3, 4, 5, 6}));
        model.setQuery(QStringLiteral("zzz"));
        QCOMPARE(model.rowCount(), 0);
    }

    void keyboard()
    {
        QWidget window;
        window.resize(1200, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        CommandPalette palette(&window);
        QCOMPARE(palette.objectName(), QStringLiteral("commandPalette"));
        palette.setEntries(labEntries());
        QSignalSpy activated(&palette, &CommandPalette::activated);

        palette.popup(&window);
        QVERIFY(palette.isVisible());
        auto *query = palette.findChild<QLineEdit *>(QStringLiteral("commandPaletteQuery"));
        QVERIFY(query);
        QTRY_VERIFY(query->hasFocus());
        // Centred near the top of the window, inside it.
        const QRect over(window.mapToGlobal(QPoint()), window.size());
        QVERIFY(over.contains(palette.geometry()));
        QVERIFY(std::abs(palette.geometry().center().x() - over.center().x()) <= 1);
        QVERIFY(palette.geometry().top() - over.top() < 100);

        QTest::keyClicks(query, QStringLiteral("sw2"));
        QCOMPARE(palette.currentKey(), QStringLiteral("host:swarm-02"));
        QTest::keyClick(query, Qt::Key_Return);
        QCOMPARE(activated.size(), 1);
        QCOMPARE(activated.at(0).at(0).toString(), QStringLiteral("host:swarm-02"));
        QVERIFY(!palette.isVisible());

        // Reopened: empty query, first row chosen; type, Down, Enter.
        palette.popup(&window);
        QVERIFY(query->text().isEmpty());
        QCOMPARE(palette.currentKey(), labEntries().first().key);
        QTest::keyClicks(query, QStringLiteral("etcd"));
        const QString second = palette.model()->keyAt(1);
        QVERIFY(second.startsWith(QStringLiteral("etcd:")));
        QTest::keyClick(query, Qt::Key_Down);
        QCOMPARE(palette.currentKey(), second);
        QTest::keyClick(query, Qt::Key_Up);
        QTest::keyClick(query, Qt::Key_Up); // wraps to the last row
        QCOMPARE(palette.currentKey(), palette.model()->keyAt(palette.model()->rowCount() - 1));
        QTest::keyClick(query, Qt::Key_Down);
        QTest::keyClick(query, Qt::Key_Down);
        QTest::keyClick(query, Qt::Key_Enter);
        QCOMPARE(activated.size(), 2);
        QCOMPARE(activated.at(1).at(0).toString(), second);

        // Page Down moves by a page and stops at the end; Page Up comes back.
        palette.popup(&window);
        QTest::keyClick(query, Qt::Key_PageDown);
        const int paged = palette.model()->rowOfKey(palette.currentKey());
        QVERIFY(paged >= 5);
        for (int i = 0; i < 5; ++i)
            QTest::keyClick(query, Qt::Key_PageDown);
        QCOMPARE(palette.model()->rowOfKey(palette.currentKey()), palette.model()->rowCount() - 1);
        for (int i = 0; i < 6; ++i)
            QTest::keyClick(query, Qt::Key_PageUp);
        QCOMPARE(palette.model()->rowOfKey(palette.currentKey()), 0);
        QTest::keyClick(query, Qt::Key_Escape);

        // Escape closes without activating anything.
        palette.popup(&window);
        QTest::keyClicks(query, QStringLiteral("pg"));
        QTest::keyClick(query, Qt::Key_Escape);
        QVERIFY(!palette.isVisible());
        QCOMPARE(activated.size(), 2);

        // Nothing matches: Enter does nothing, the list makes way for a note.
        palette.popup(&window);
        QTest::keyClicks(query, QStringLiteral("qqqq"));
        QVERIFY(palette.currentKey().isEmpty());
        QVERIFY(palette.findChild<QWidget *>(QStringLiteral("commandPaletteEmpty"))->isVisible());
        QTest::keyClick(query, Qt::Key_Return);
        QCOMPARE(activated.size(), 2);
        QVERIFY(palette.isVisible());
        QTest::keyClick(query, Qt::Key_Escape);
    }

    void mouseAndRefresh()
    {
        QWidget window;
        window.resize(1200, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        CommandPalette palette(&window);
        palette.setEntries(labEntries());
        QSignalSpy activated(&palette, &CommandPalette::activated);
        palette.popup(&window);
        auto *query = palette.findChild<QLineEdit *>(QStringLiteral("commandPaletteQuery"));
        auto *list = palette.findChild<QListView *>(QStringLiteral("commandPaletteList"));
        QVERIFY(query && list);

        // A refresh while open keeps the chosen entry chosen.
        QTest::keyClicks(query, QStringLiteral("swarm"));
        QTest::keyClick(query, Qt::Key_Down);
        const QString chosen = palette.currentKey();
        QList<PaletteEntry> refreshed = labEntries();
        std::reverse(refreshed.begin(), refreshed.end());
        palette.setEntries(refreshed);
        QCOMPARE(palette.currentKey(), chosen);

        const QModelIndex third = palette.model()->index(2);
        QVERIFY(third.isValid());
        QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualRect(third).center());
        QCOMPARE(activated.size(), 1);
        QCOMPARE(activated.at(0).at(0).toString(),
                 third.data(PaletteEntryModel::KeyRole).toString());
        QVERIFY(!palette.isVisible());
    }

    void icons()
    {
        const QStringList names = iconNames();
        QVERIFY(names.size() >= 20);
        for (const QString &name : names) {
            const QString path = QStringLiteral(":/icons/") + name + QStringLiteral(".svg");
            QSvgRenderer renderer(path);
            QVERIFY2(renderer.isValid(), qPrintable(path));
            QCOMPARE(renderer.viewBoxF(), QRectF(0, 0, 16, 16));
            const QIcon icon = stateIcon(name);
            QVERIFY2(!icon.isNull(), qPrintable(name));
            for (const int size : {16, 64}) {
                const QImage image = icon.pixmap(size).toImage();
                QVERIFY2(!image.isNull(), qPrintable(name));
                QCOMPARE(image.width(), size);
                // Drawn, and not a filled square: something but not all.
                const int painted = paintedPixels(image);
                QVERIFY2(painted > size * size / 8, qPrintable(name));
                QVERIFY2(painted < size * size, qPrintable(name));
            }
            // Drawn from the SVG at the screen's scale, not scaled up.
            const QPixmap sharp = icon.pixmap(QSize(16, 16), 2.0);
            QCOMPARE(sharp.size(), QSize(32, 32));
            QCOMPARE(sharp.devicePixelRatio(), 2.0);
        }
        QVERIFY(stateIcon(QStringLiteral("no-such-icon")).isNull());
        QVERIFY(stateIcon(QString()).isNull());
        QVERIFY(!kindIcon(QStringLiteral("cert")).isNull()); // falls back to "unknown"
        for (const char *kind :
             {"host", "service", "pg", "pgpool", "etcd", "route", "app", "cluster", "action"})
            QVERIFY(names.contains(QString::fromUtf8(kind)));
    }

    void screenshots_data()
    {
        QTest::addColumn<bool>("dark");
        QTest::newRow("light") << false;
        QTest::newRow("dark") << true;
    }

    void screenshots()
    {
        QFETCH(bool, dark);
        const QPalette before = QApplication::palette();
        if (dark)
            QApplication::setPalette(darkPalette());
        {
            QMainWindow window;
            fillBackdrop(&window);
            window.resize(1200, 800);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            CommandPalette palette(&window);
            palette.setEntries(labEntries());
            palette.popup(&window);
            auto *query = palette.findChild<QLineEdit *>(QStringLiteral("commandPaletteQuery"));
            // Light: a prefix with the second row chosen; dark: letters in order.
            QTest::keyClicks(query, dark ? QStringLiteral("pg1") : QStringLiteral("sw"));
            if (!dark)
                QTest::keyClick(query, Qt::Key_Down);
            QVERIFY(palette.model()->rowCount() >= 3);
            const QImage image = composed(&window, &palette);
            QCOMPARE(image.size(), QSize(1200, 800));
            QVERIFY(image.save(TestSupport::screenshotPath(
                dark ? QStringLiteral("palette-dark.png") : QStringLiteral("palette-light.png"))));
        }
        QApplication::setPalette(before);
    }

    void iconSheet()
    {
        // Every icon at 32 px on a light and a dark strip, named; the
        // application icon also at 128 px on the right.
        const QStringList names = iconNames();
        constexpr int Cell = 84;
        constexpr int Large = 128;
        const int columns = int(names.size() + 1) / 2;
        const int gridWidth = columns * Cell;
        QImage sheet(gridWidth + Large + 32, 4 * Cell, QImage::Format_ARGB32);
        sheet.fill(Qt::white);
        QPainter painter(&sheet);
        painter.fillRect(0, 2 * Cell, sheet.width(), 2 * Cell, QColor(0x1e, 0x1f, 0x22));
        for (int strip = 0; strip < 2; ++strip) {
            painter.setPen(strip == 0 ? QColor(0x20, 0x20, 0x20) : QColor(0xe6, 0xe6, 0xe6));
            for (qsizetype i = 0; i < names.size(); ++i) {
                const int x = int(i % columns) * Cell;
                const int y = strip * 2 * Cell + int(i / columns) * Cell;
                stateIcon(names.at(i)).paint(&painter, QRect(x + (Cell - 32) / 2, y + 14, 32, 32));
                painter.drawText(QRect(x, y + 52, Cell, 24), Qt::AlignCenter, names.at(i));
            }
            stateIcon(QStringLiteral("pilothouse"))
                .paint(&painter, QRect(gridWidth + 16, strip * 2 * Cell + (2 * Cell - Large) / 2,
                                       Large, Large));
        }
        painter.end();
        QVERIFY(sheet.save(TestSupport::screenshotPath(QStringLiteral("icons.png"))));
    }
};

int main(int argc, char **argv)
{
    // The offscreen screen is 800x600 unless told otherwise; the palette
    // keeps to the screen, so give the 1200x800 window a screen it fits on.
    QTemporaryDir configDir;
    if (qgetenv("QT_QPA_PLATFORM") == "offscreen" && configDir.isValid()) {
        QFile config(configDir.filePath(QStringLiteral("offscreen.json")));
        if (config.open(QIODevice::WriteOnly)) {
            config.write(R"({"screens": [{"name": "palette", "x": 0, "y": 0, "width": 1600,
                              "height": 1000, "logicalDpi": 96, "dpr": 1}]})");
            config.close();
            qputenv("QT_QPA_PLATFORM", "offscreen:configfile=" + config.fileName().toUtf8());
        }
    }
    QApplication app(argc, argv);
    TestPalette test;
    return QTest::qExec(&test, argc, argv);
}
#include "tst_palette.moc"
