#include "app/monitor/backgroundpriority.h"

#include <QThread>

#ifdef Q_OS_LINUX
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace Pilothouse {
namespace {
// Weight 335 against the GUI thread's 1024 under CFS: the monitors still get
// two thirds of what they would, and the GUI thread wins when both wake.
constexpr int BackgroundNice = 5;
} // namespace

bool lowerCurrentThreadPriority()
{
#ifdef Q_OS_LINUX
    // On Linux a thread's nice value is its own (PRIO_PROCESS with a thread
    // id), unlike QThread::setPriority, which has no effect under SCHED_OTHER.
    const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    const int current = ::getpriority(PRIO_PROCESS, tid);
    if (current >= BackgroundNice)
        return true;
    return ::setpriority(PRIO_PROCESS, tid, BackgroundNice) == 0;
#else
    QThread::currentThread()->setPriority(QThread::LowPriority);
    return true;
#endif
}

} // namespace Pilothouse
