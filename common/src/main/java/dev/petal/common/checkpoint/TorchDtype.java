package dev.petal.common.checkpoint;

import java.nio.ByteBuffer;

/**
 * The torch storage classes a state_dict may name ({@code torch.FloatStorage}, ...), their element
 * width, and the dtype name safetensors gives them, so tensors read from a {@code .pth} look the same
 * as tensors read from a {@code .safetensors} file.
 */
enum TorchDtype {
    FLOAT32("FloatStorage", "F32", 4),
    FLOAT16("HalfStorage", "F16", 2),
    BFLOAT16("BFloat16Storage", "BF16", 2),
    FLOAT64("DoubleStorage", "F64", 8),
    INT64("LongStorage", "I64", 8),
    INT32("IntStorage", "I32", 4),
    UINT8("ByteStorage", "U8", 1);

    private final String storageClass;
    private final String safetensorsName;
    private final int width;

    TorchDtype(String storageClass, String safetensorsName, int width) {
        this.storageClass = storageClass;
        this.safetensorsName = safetensorsName;
        this.width = width;
    }

    /** The dtype of {@code torch.<storageClass>}, or {@code null} for a class that is not a storage we read. */
    static TorchDtype ofStorageClass(String storageClass) {
        for (TorchDtype dtype : values()) {
            if (dtype.storageClass.equals(storageClass)) {
                return dtype;
            }
        }
        return null;
    }

    String storageClass() {
        return storageClass;
    }

    /** As {@link SafeTensors.Tensor#dtype()} spells it: F32, F16, BF16, F64, I64, I32, U8. */
    String safetensorsName() {
        return safetensorsName;
    }

    int width() {
        return width;
    }

    /** Floating-point dtypes become float32 values; integer ones (num_batches_tracked) are listed only. */
    boolean isFloatingPoint() {
        return this == FLOAT32 || this == FLOAT16 || this == BFLOAT16 || this == FLOAT64;
    }

    /** Element {@code index} of little-endian {@code data} as a float32 (floating-point dtypes only). */
    float floatAt(ByteBuffer data, int index) {
        return switch (this) {
            case FLOAT32 -> data.getFloat(index * 4);
            case FLOAT64 -> (float) data.getDouble(index * 8);
            case FLOAT16 -> SafeTensors.halfToFloat(data.getShort(index * 2));
            case BFLOAT16 -> Float.intBitsToFloat((data.getShort(index * 2) & 0xFFFF) << 16);
            default -> throw new IllegalStateException(this + " has no float values");
        };
    }
}
