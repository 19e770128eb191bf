#pragma once

namespace Pilothouse {

// Lowers the calling thread's CPU priority (Linux: nice +5 for this thread
// alone; threads it starts later inherit it). For the monitors' threads: when
// the machine is busy, the GUI thread is the one that must not wait.
// Unprivileged, never fails the caller; returns whether it took effect.
bool lowerCurrentThreadPriority();

} // namespace Pilothouse
