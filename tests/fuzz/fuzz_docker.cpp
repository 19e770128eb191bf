// libFuzzer target: every Docker API reader on arbitrary bytes (as the JSON
// of /nodes, /services, /tasks, /version, and as one line of /events).
#include "app/connectors/docker/dockerreaders.h"

#include <QJsonDocument>

#include <cstddef>
#include <cstdint>

using namespace Pilothouse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const QJsonDocument doc = QJsonDocument::fromJson(bytes);
    const auto nodes = DockerReaders::readNodes(doc);
    const auto services = DockerReaders::readServices(doc);
    (void)DockerReaders::readTasks(doc, services ? services.value() : QList<ServiceState>{},
                                   nodes ? nodes.value() : QList<SwarmNodeState>{});
    (void)DockerReaders::readVersionApi(doc);
    (void)DockerReaders::readEvent(bytes);
    const QString text = QString::fromUtf8(bytes);
    (void)DockerReaders::readTimestamp(text);
    (void)DockerReaders::apiMinor(text);
    (void)DockerReaders::negotiateApiVersion(text, 43, 30);
    return 0;
}
