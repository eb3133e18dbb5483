package dev.petal.common.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes float32 tensors as torch.save lays out a state_dict (a protocol-2 pickle with the opcodes PyTorch
 * 1.13 emits, one storage per tensor), plus torchvision's int64 {@code num_batches_tracked} beside each
 * BatchNorm. For tests that need a whole ResNet as {@code .pth}: a real torchvision one is 45 MB and more.
 * What the format is comes from files real torch.save wrote ({@link TorchSaveReaderTest}).
 */
final class TorchSaveWriter {
    private TorchSaveWriter() {}

    static void write(Path file, SafeTensors weights) throws IOException {
        Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>();
        weights.tensors().forEach((name, tensor) -> {
            tensors.put(name, tensor);
            if (name.endsWith(".running_var")) {
                String counter = name.substring(0, name.length() - "running_var".length()) + "num_batches_tracked";
                tensors.put(counter, new SafeTensors.Tensor("I64", new long[0], null));
            }
        });
        String archive = TorchvisionWeightsFile.stem(file);
        ByteArrayOutputStream pickle = new ByteArrayOutputStream();
        write(pickle, "\u0080\u0002ccollections\nOrderedDict\n)R(");
        int key = 0;
        Map<String, byte[]> storages = new LinkedHashMap<>();
        for (Map.Entry<String, SafeTensors.Tensor> e : tensors.entrySet()) {
            SafeTensors.Tensor t = e.getValue();
            boolean counter = t.values() == null;
            String storageKey = Integer.toString(key++);
            string(pickle, e.getKey());
            write(pickle, "ctorch._utils\n_rebuild_tensor_v2\n((");
            string(pickle, "storage");
            write(pickle, counter ? "ctorch\nLongStorage\n" : "ctorch\nFloatStorage\n");
            string(pickle, storageKey);
            string(pickle, "cpu");
            integer(pickle, t.size());
            write(pickle, "tQ");
            integer(pickle, 0);
            write(pickle, "(");
            for (long d : t.shape()) {
                integer(pickle, d);
            }
            write(pickle, "t(");
            long stride = 1;
            long[] strides = new long[t.shape().length];
            for (int d = strides.length - 1; d >= 0; d--) {
                strides[d] = stride;
                stride *= t.shape()[d];
            }
            for (long s : strides) {
                integer(pickle, s);
            }
            write(pickle, "t\u0089ccollections\nOrderedDict\n)RtR");
            ByteBuffer bytes = ByteBuffer.allocate((int) t.size() * (counter ? 8 : 4)).order(ByteOrder.LITTLE_ENDIAN);
            if (counter) {
                bytes.putLong(1);
            } else {
                bytes.asFloatBuffer().put(t.values());
            }
            storages.put(storageKey, bytes.array());
        }
        write(pickle, "u.");
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            entry(zip, archive + "/data.pkl", pickle.toByteArray());
            for (Map.Entry<String, byte[]> storage : storages.entrySet()) {
                entry(zip, archive + "/data/" + storage.getKey(), storage.getValue());
            }
            entry(zip, archive + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    private static void entry(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(bytes);
        zip.closeEntry();
    }

    private static void write(ByteArrayOutputStream out, String opcodes) {
        out.writeBytes(opcodes.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static void string(ByteArrayOutputStream out, String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        out.write('X');
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(utf8.length).array());
        out.writeBytes(utf8);
    }

    private static void integer(ByteArrayOutputStream out, long value) {
        out.write('J');
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(Math.toIntExact(value)).array());
    }
}
