package dev.petal.common.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.petal.common.inference.LoadedModel;
import dev.petal.common.inference.ModelSource;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ResNetConfig;
import dev.petal.common.training.ModelSession;
import dev.petal.common.training.TrainingSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one entry point for torchvision-named weights: either file kind, and {@code torchvision:<arch>}. */
class WeightsFileTest {
    @TempDir
    Path tmp;

    @Test
    void aResNetAsPthStartsTrainingExactlyAsItsSafetensorsWould() throws Exception {
        float[] pixels = TorchvisionWeightsTest.randomPixels(2);
        try (ModelSession source = TorchvisionWeightsTest.session(Architecture.RESNET18, 5, 1)) {
            SafeTensors exported = TorchvisionWeights.export(source.net(), Map.of());
            Path pth = tmp.resolve("resnet18-tiny.pth");
            TorchSaveWriter.write(pth, exported);
            Path safetensors = Files.write(tmp.resolve("resnet18-tiny.safetensors"), exported.toBytes());

            SafeTensors fromPth = WeightsFile.read(pth.toString());
            SafeTensors fromSafetensors = WeightsFile.read(safetensors.toString());
            assertEquals(102 + 20, fromPth.tensors().size(), "torchvision's layout: 20 num_batches_tracked beside the 102");
            for (Map.Entry<String, SafeTensors.Tensor> e : fromSafetensors.tensors().entrySet()) {
                assertArrayEquals(e.getValue().shape(), fromPth.get(e.getKey()).shape(), e.getKey());
                assertArrayEquals(e.getValue().values(), fromPth.get(e.getKey()).values(), e.getKey());
            }
            // As the trainer's --init-weights does: the weights go in before training starts.
            TorchvisionWeights.LoadResult[] result = new TorchvisionWeights.LoadResult[1];
            try (ModelSession target = new ModelSession(new ResNetConfig(Architecture.RESNET18, 5, true, false), 32,
                    new TrainingSettings(1e-3f, 0.01f, 2, 10, 2), Device.cpu(),
                    net -> result[0] = TorchvisionWeights.load(net, fromPth, false))) {
                assertEquals(102, result[0].loaded());
                assertEquals(List.of(), result[0].unusedKeys(), "num_batches_tracked is ignored, not unused");
                float[][] expected = source.logits(pixels, 2);
                float[][] actual = target.logits(pixels, 2);
                for (int i = 0; i < 2; i++) {
                    assertArrayEquals(expected[i], actual[i], 1e-5f);
                }
            }
        }
    }

    @Test
    void classifyingFromAPthBuildsTheSameModelAsFromSafetensors() throws Exception {
        ModelSpec spec = new ModelSpec("resnet18", List.of("a", "b", "c", "d", "e"), 32, "imagenet", true, false);
        try (ModelSession source = TorchvisionWeightsTest.session(Architecture.RESNET18, 5, 3)) {
            SafeTensors exported = TorchvisionWeights.export(source.net(), Map.of());
            Path pth = tmp.resolve("flowers.pth");
            TorchSaveWriter.write(pth, exported);
            Path safetensors = Files.write(tmp.resolve("flowers.safetensors"), exported.toBytes());
            assertEquals(List.of(), ModelSource.labelsIn(pth), "a .pth carries no labels");
            try (LoadedModel a = ModelSource.fromSafeTensors(pth, spec); LoadedModel b = ModelSource.fromSafeTensors(safetensors, spec)) {
                assertEquals("flowers", a.id().name());
                assertEquals(Sha256.hex(pth), a.id().sha256());
                assertArrayEquals(Files.readAllBytes(b.weights()), Files.readAllBytes(a.weights()));
            }
        }
    }

    @Test
    void theContentDecidesTheKindAndTheExtensionOnlyWordsTheError() throws Exception {
        SafeTensors one = new SafeTensors(Map.of("w", SafeTensors.Tensor.of(new long[] {2}, new float[] {1, 2})), Map.of());
        Path safetensorsNamedBin = Files.write(tmp.resolve("weights.bin"), one.toBytes());
        assertEquals(WeightsFile.Kind.SAFETENSORS, WeightsFile.kindOf(safetensorsNamedBin));
        assertArrayEquals(new float[] {1, 2}, WeightsFile.read(safetensorsNamedBin).get("w").values());
        assertEquals(WeightsFile.Kind.TORCH_SAVE, WeightsFile.kindOf(TorchSaveReaderTest.fixture("state_dict.pth")));

        Path textAsPth = Files.writeString(tmp.resolve("notes.pth"), "not weights at all");
        assertEquals("notes.pth is not a torch.save archive (no zip header)",
                assertThrows(CheckpointIntegrityException.class, () -> WeightsFile.read(textAsPth)).getMessage());
        Path textAsSafetensors = Files.writeString(tmp.resolve("notes.safetensors"), "not weights at all");
        assertThrows(CheckpointIntegrityException.class, () -> WeightsFile.read(textAsSafetensors));
        Path text = Files.writeString(tmp.resolve("notes.bin"), "not weights at all");
        assertEquals("notes.bin is neither safetensors nor a torch.save archive (.pth, .pt)",
                assertThrows(CheckpointIntegrityException.class, () -> WeightsFile.read(text)).getMessage());
    }

    @Test
    void extensionsAndStems() {
        assertTrue(WeightsFile.hasWeightsExtension("resnet18-f37072fd.pth"));
        assertTrue(WeightsFile.hasWeightsExtension("model.PT"));
        assertTrue(WeightsFile.hasWeightsExtension("x.safetensors"));
        assertFalse(WeightsFile.hasWeightsExtension("x.params"));
        assertEquals("resnet18-f37072fd", WeightsFile.stem(Path.of("/w/resnet18-f37072fd.pth")));
        assertEquals("model", WeightsFile.stem(Path.of("model.safetensors")));
    }

    @Test
    void torchvisionReferencesResolveToTheCachedFileOrSayHowToGetIt() throws Exception {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> TorchvisionDownloads.resolve("torchvision:resnet50", tmp));
        assertEquals("torchvision:resnet50: " + tmp.resolve("resnet50-0676ba61.pth") + " is not there; run ./petal weights"
                + " fetch resnet50 first (needs internet), or pass --init-weights FILE.pth", missing.getMessage());
        Path cached = Files.copy(TorchSaveReaderTest.fixture("state_dict.pth"), tmp.resolve("resnet18-f37072fd.pth"));
        assertEquals(cached, TorchvisionDownloads.resolve("torchvision:resnet18", tmp));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TorchvisionDownloads.resolve("torchvision:resnet19", tmp))
                .getMessage().contains("unknown architecture 'resnet19'"));
    }

    @Test
    void theCatalogueIsTorchvisionsImagenetV1Files() {
        // ResNet*_Weights.IMAGENET1K_V1 in torchvision's models/resnet.py
        assertEquals(List.of("resnet18-f37072fd.pth", "resnet34-b627a593.pth", "resnet50-0676ba61.pth",
                "resnet101-63fe2227.pth", "resnet152-394f9c45.pth"),
                Architecture.ids().stream().map(id -> TorchvisionDownloads.fileName(Architecture.parse(id))).toList());
        assertEquals("f37072fd", TorchvisionDownloads.hashPrefix("resnet18-f37072fd.pth"));
        assertThrows(IllegalArgumentException.class, () -> TorchvisionDownloads.hashPrefix("resnet18.pth"));
        assertEquals("https://download.pytorch.org/models/resnet50-0676ba61.pth",
                TorchvisionDownloads.url(TorchvisionDownloads.BASE_URL, "resnet50-0676ba61.pth").toString());
    }

    @Test
    void theCacheFollowsPetalCacheDirThenXdgThenHome() {
        assertEquals(Path.of("/c/weights"), TorchvisionDownloads.cacheDir(Map.of("PETAL_CACHE_DIR", "/c", "XDG_CACHE_HOME", "/x"), "/h"));
        assertEquals(Path.of("/x/petal/weights"), TorchvisionDownloads.cacheDir(Map.of("XDG_CACHE_HOME", "/x"), "/h"));
        assertEquals(Path.of("/h/.cache/petal/weights"), TorchvisionDownloads.cacheDir(Map.of("XDG_CACHE_HOME", "rel"), "/h"));
        assertEquals(Path.of("/h/.cache/petal/weights"), TorchvisionDownloads.cacheDir(Map.of(), "/h"));
    }
}
