#pragma once
// Test helper for the Docker suites; used on the test's main thread only.

#include "app/connectors/docker/dockerreply.h"

#include <QElapsedTimer>
#include <QJsonDocument>

#include <memory>
#include <optional>

namespace Pilothouse {

// Keeps what a reply said, and how long it took, before the reply deletes itself.
struct ReplyRecorder
{
    std::optional<Result<DockerResponse>> response;
    std::optional<Result<QJsonDocument>> json;
    qint64 elapsedMs = -1;

    ReplyRecorder() = default;
    explicit ReplyRecorder(DockerReply *r) { watch(r); }
    Q_DISABLE_COPY_MOVE(ReplyRecorder) // the reply's callback holds `this`

    void watch(DockerReply *r)
    {
        auto timer = std::make_shared<QElapsedTimer>();
        timer->start();
        QObject::connect(r, &DockerReply::finished, r, [this, r, timer] {
            response = r->result();
            json = r->json();
            elapsedMs = timer->elapsed();
        });
    }
    bool done() const { return response.has_value(); }
    QString error() const { return json && !json->ok() ? json->error().message : QString(); }
    QJsonDocument doc() const { return json && json->ok() ? json->value() : QJsonDocument(); }
};

} // namespace Pilothouse
