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
import dev.petal.common.image.Normalization;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Precision;
import dev.petal.common.model.Stem;
import dev.petal.common.training.ModelSession;
import dev.petal.common.training.TrainingSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one entry point for torchvision-named weights: either file kind, and {@code torchvision:<arch>}. */
class TorchvisionWeightsFileTest {
    @TempDir
    Path tmp;

    @Test
    void aResNetAsPthStartsTrainingExactlyAsItsSafetensorsWould() throws Exception {
        float[] pixels = TorchvisionWeightsTest.randomPixels(2);
        try (ModelSession source = TorchvisionWeightsTest.session(Architecture.RESNET18, 5, 1)) {
            SafeTensors exported = TorchvisionWeights.export(source.parameters(), Map.of());
            Path pth = tmp.resolve("resnet18-tiny.pth");
            TorchSaveWriter.write(pth, exported);
            Path safetensors = Files.write(tmp.resolve("resnet18-tiny.safetensors"), exported.toBytes());

            SafeTensors fromPth = TorchvisionWeightsFile.read(pth.toString());
            SafeTensors fromSafetensors = TorchvisionWeightsFile.read(safetensors.toString());
            assertEquals(102 + 20, fromPth.tensors().size(), "torchvision's layout: 20 num_batches_tracked beside the 102");
            for (Map.Entry<String, SafeTensors.Tensor> e : fromSafetensors.tensors().entrySet()) {
                assertArrayEquals(e.getValue().shape(), fromPth.get(e.getKey()).shape(), e.getKey());
                assertArrayEquals(e.getValue().values(), fromPth.get(e.getKey()).values(), e.getKey());
            }
            // As the trainer's --init-weights does: the weights go in before training starts.
            TorchvisionWeights.LoadResult[] result = new TorchvisionWeights.LoadResult[1];
            try (ModelSession target = new ModelSession(source.spec(), new TrainingSettings(1e-3f, 0.01f, 2, 10, 2), Device.cpu(),
                    params -> result[0] = TorchvisionWeights.load(params, fromPth, false), Precision.FP32)) {
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
        ModelSpec spec = new ModelSpec(Architecture.RESNET18, List.of("a", "b", "c", "d", "e"), 32, Stem.SMALL, Normalization.IMAGENET);
        try (ModelSession source = TorchvisionWeightsTest.session(Architecture.RESNET18, 5, 3)) {
            SafeTensors exported = TorchvisionWeights.export(source.parameters(), Map.of());
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
        assertEquals(TorchvisionWeightsFile.Kind.SAFETENSORS, TorchvisionWeightsFile.kindOf(safetensorsNamedBin));
        assertArrayEquals(new float[] {1, 2}, TorchvisionWeightsFile.read(safetensorsNamedBin).get("w").values());
        assertEquals(TorchvisionWeightsFile.Kind.TORCH_SAVE, TorchvisionWeightsFile.kindOf(TorchSaveReaderTest.fixture("state_dict.pth")));

        Path textAsPth = Files.writeString(tmp.resolve("notes.pth"), "not weights at all");
        assertEquals("notes.pth is not a torch.save archive (no zip header)",
                assertThrows(CheckpointIntegrityException.class, () -> TorchvisionWeightsFile.read(textAsPth)).getMessage());
        Path textAsSafetensors = Files.writeString(tmp.resolve("notes.safetensors"), "not weights at all");
        assertThrows(CheckpointIntegrityException.class, () -> TorchvisionWeightsFile.read(textAsSafetensors));
        Path text = Files.writeString(tmp.resolve("notes.bin"), "not weights at all");
        assertEquals("notes.bin is neither safetensors nor a torch.save archive (.pth, .pt)",
                assertThrows(CheckpointIntegrityException.class, () -> TorchvisionWeightsFile.read(text)).getMessage());
    }

    @Test
    void extensionsAndStems() {
        assertTrue(TorchvisionWeightsFile.hasWeightsExtension("resnet18-f37072fd.pth"));
        assertTrue(TorchvisionWeightsFile.hasWeightsExtension("model.PT"));
        assertTrue(TorchvisionWeightsFile.hasWeightsExtension("x.safetensors"));
        assertFalse(TorchvisionWeightsFile.hasWeightsExtension("x.params"));
        assertEquals("resnet18-f37072fd", TorchvisionWeightsFile.stem(Path.of("/w/resnet18-f37072fd.pth")));
        assertEquals("model", TorchvisionWeightsFile.stem(Path.of("model.safetensors")));
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
                "resnet101-63fe2227.pth", "resnet152-394f9c45.pth", "resnext50_32x4d-7cdf4587.pth", "wide_resnet50_2-95faca4d.pth"),
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
