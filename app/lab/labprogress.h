#pragma once
// Free functions; safe on any thread.

#include <QString>

#include <optional>

namespace Pilothouse::LabProgress {

// One line of `lab up` output, as deploy-stacks/lab/lab prints it:
//   "==> step 3/7: start the engines"             (a step starts)
//   "[  12.3s] step 3/7 done: start the engines (took 4.1s)"   (it ends)
//   "inventory: /var/lib/pilothouse-lab/inventory.yaml"
struct Line
{
    enum class Kind { StepStarted, StepFinished, Inventory, Error };
    Kind kind;
    int step = 0;
    int total = 0;
    QString text;       // step name, inventory path or error message
    double seconds = 0; // how long the step took (StepFinished)
};

std::optional<Line> parse(const QString &line);

} // namespace Pilothouse::LabProgress
