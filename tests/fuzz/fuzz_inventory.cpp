// libFuzzer target: the inventory loader on arbitrary bytes. It must return a
// value or an Error, never crash, hang or read out of bounds.
#include "app/inventory/inventoryloader.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    (void)Pilothouse::InventoryLoader::loadBytes(bytes, QStringLiteral("/fuzz/inventory.yaml"));
    return 0;
}
