// The console's GUI benchmarks and screenshots, on the running lab (issue:
// dashboard). Driven by tests/bench/bench-gui.sh; prints key=value lines.
//
//   bench_gui --watch SECONDS INVENTORY...   open every inventory, wait for the
//       first live overview of each, then measure the GUI thread's stalls (a
//       5 ms timer's lateness), CPU and RSS while watching for SECONDS.
//   bench_gui --screenshots DIR --phase NAME INVENTORY
//       open it, wait for the overview and WAIT seconds of history, save the
//       window with each tab to DIR/NAME-*.png.

#include "app/application.h"
#include "app/clustersession.h"
#include "ui/charts/chartspanel.h"
#include "ui/clusterview.h"
#include "ui/docks/findingsdock.h"
#include "ui/docks/timelinedock.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QMap>
#include <QTabWidget>
#include <QThread>
#include <QTimer>

#include "tests/bench/stallprobe.h"
#include <cstdio>
#include <sys/resource.h>

namespace {

double cpuSeconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double rssMegabytes()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toDouble() / 1024.0;
    }
    return -1;
}

void out(const char *key, double value)
{
    std::printf("%s=%.2f\n", key, value);
    std::fflush(stdout);
}

// Runs the event loop for a while. Not QApplication::exec() and quit(): in
// Qt 6 quit() closes every window first.
void runFor(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

bool save(QWidget *w, const QString &path)
{
    const bool ok = w->grab().save(path);
    std::printf("screenshot=%s %s\n", qPrintable(path), ok ? "saved" : "FAILED");
    return ok;
}

// Times every event the GUI thread delivers (outermost only) and keeps the
// slow ones by receiver, so that a stall can be traced to what caused it.
class TimingApplication final : public QApplication
{
public:
    using QApplication::QApplication;

    bool notify(QObject *receiver, QEvent *event) override
    {
        // Other threads (Qt's HTTP thread, the SSH workers) deliver through here too.
        if (!m_profiling || QThread::currentThread() != thread())
            return QApplication::notify(receiver, event);
        if (m_depth++ > 0) {
            const bool r = QApplication::notify(receiver, event);
            --m_depth;
            return r;
        }
        // Name it before delivery: the receiver may be deleted by it.
        QString what = QString::fromLatin1(receiver->metaObject()->className());
        if (receiver->parent())
            what += QStringLiteral(" in ") +
                    QString::fromLatin1(receiver->parent()->metaObject()->className());
        what += QStringLiteral(" event ") + QString::number(int(event->type()));
        QElapsedTimer t;
        t.start();
        const bool r = QApplication::notify(receiver, event);
        const qint64 us = t.nsecsElapsed() / 1000;
        --m_depth;
        if (us >= 8000) {
            Slow &slow = m_slow[what];
            ++slow.count;
            slow.totalUs += us;
            slow.maxUs = std::max(slow.maxUs, us);
        }
        return r;
    }

    void setProfiling(bool on) { m_profiling = on; }
    void printSlow() const
    {
        for (auto it = m_slow.cbegin(); it != m_slow.cend(); ++it)
            std::printf("slow_event=%s count=%d max_ms=%.1f total_ms=%.1f\n", qPrintable(it.key()),
                        it->count, double(it->maxUs) / 1000.0, double(it->totalUs) / 1000.0);
    }

private:
    struct Slow
    {
        int count = 0;
        qint64 totalUs = 0;
        qint64 maxUs = 0;
    };
    int m_depth = 0;
    bool m_profiling = false;
    QMap<QString, Slow> m_slow;
};

} // namespace

int main(int argc, char *argv[])
{
    QElapsedTimer sinceMain;
    sinceMain.start();
    const qint64 mainEpochMs = QDateTime::currentMSecsSinceEpoch();
    TimingApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Pilothouse"));
    QApplication::setOrganizationName(QStringLiteral("Pilothouse-bench"));

    QCommandLineParser parser;
    const QCommandLineOption watchOption(QStringLiteral("watch"), QStringLiteral("seconds"),
                                         QStringLiteral("SECONDS"));
    const QCommandLineOption shotsOption(QStringLiteral("screenshots"), QStringLiteral("directory"),
                                         QStringLiteral("DIR"));
    const QCommandLineOption phaseOption(QStringLiteral("phase"), QStringLiteral("name prefix"),
                                         QStringLiteral("NAME"), QStringLiteral("healthy"));
    const QCommandLineOption waitOption(QStringLiteral("wait"),
                                        QStringLiteral("seconds of history before screenshots"),
                                        QStringLiteral("SECONDS"), QStringLiteral("20"));
    const QCommandLineOption profileOption(
        QStringLiteral("profile"),
        QStringLiteral("while watching, list the events that kept the GUI thread 8 ms or more"));
    parser.addOptions({watchOption, shotsOption, phaseOption, waitOption, profileOption});
    parser.addPositionalArgument(QStringLiteral("inventory"), QStringLiteral("inventories"));
    parser.process(app);
    const QStringList inventories = parser.positionalArguments();
    if (inventories.isEmpty() || parser.isSet(watchOption) == parser.isSet(shotsOption)) {
        std::fputs("usage: bench_gui (--watch SECONDS | --screenshots DIR [--phase NAME] "
                   "[--wait SECONDS]) INVENTORY...\n",
                   stderr);
        return 2;
    }

    Pilothouse::Application console;
    console.window()->resize(1600, 1000);
    console.show();
    std::printf("main_epoch_ms=%lld\n", mainEpochMs);
    out("window_shown_ms_since_main", double(sinceMain.elapsed()));

    int shown = 0;
    for (const QString &path : inventories) {
        console.openInventory(path);
        Pilothouse::ClusterSession *session = console.session(QFileInfo(path).absoluteFilePath());
        if (!session)
            session = console.session(path);
        if (!session) {
            std::fprintf(stderr, "bench_gui: %s did not open\n", qPrintable(path));
            return 1;
        }
        const bool first = shown == 0 && path == inventories.first();
        QObject::connect(session, &Pilothouse::ClusterSession::firstOverviewShown, &app,
                         [&shown, first, &sinceMain] {
                             if (first) {
                                 out("first_overview_ms_since_main", double(sinceMain.elapsed()));
                                 std::printf("first_overview_epoch_ms=%lld\n",
                                             QDateTime::currentMSecsSinceEpoch());
                             }
                             ++shown;
                         });
    }
    // The first cluster is the one on screen; the others run their monitors behind it.
    console.openInventory(inventories.first()); // brings its page to the front again
    QElapsedTimer waiting;
    waiting.start();
    while (shown < inventories.size() && waiting.elapsed() < 30000)
        QApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    if (shown < inventories.size()) {
        std::fprintf(stderr, "bench_gui: only %d of %lld clusters showed an overview in 30 s\n",
                     shown, qlonglong(inventories.size()));
        return 1;
    }
    out("clusters", double(shown));

    if (parser.isSet(watchOption)) {
        const int seconds = parser.value(watchOption).toInt();
        StallProbe probe;
        const double cpu0 = cpuSeconds();
        QElapsedTimer wall;
        wall.start();
        probe.start();
        app.setProfiling(parser.isSet(profileOption));
        runFor(seconds * 1000);
        app.setProfiling(false);
        probe.stop();
        const double cpu = (cpuSeconds() - cpu0) / (double(wall.elapsed()) / 1000.0) * 100.0;
        out("watch_seconds", double(wall.elapsed()) / 1000.0);
        out("stall_samples", double(probe.count()));
        out("stall_p50_ms", probe.quantileMs(0.50));
        out("stall_p99_ms", probe.quantileMs(0.99));
        out("stall_max_ms", probe.maxMs());
        out("cpu_percent_of_core", cpu);
        out("rss_mb", rssMegabytes());
        app.printSlow();
        return 0;
    }

    const QString dir = parser.value(shotsOption);
    const QString phase = parser.value(phaseOption);
    QDir().mkpath(dir);
    runFor(parser.value(waitOption).toInt() * 1000);
    Pilothouse::ClusterView *view = console.window()->currentCluster();
    auto *tabs = view->findChild<QTabWidget *>(QStringLiteral("clusterTabs"));
    bool ok = save(console.window(), dir + u'/' + phase + QStringLiteral("-overview.png"));
    tabs->setCurrentWidget(view->charts());
    runFor(1500); // the charts catch up when shown and take the next snapshot
    ok = save(console.window(), dir + u'/' + phase + QStringLiteral("-charts.png")) && ok;
    ok = save(view->findingsDock(), dir + u'/' + phase + QStringLiteral("-findings.png")) && ok;
    ok = save(view->timelineDock(), dir + u'/' + phase + QStringLiteral("-timeline.png")) && ok;
    return ok ? 0 : 1;
}
