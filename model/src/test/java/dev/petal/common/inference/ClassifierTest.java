package dev.petal.common.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import dev.petal.common.checkpoint.CheckpointIntegrityException;
import dev.petal.common.model.ActivationRanges;
import dev.petal.common.model.Int8Calibration;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.Stem;
import dev.petal.common.image.Normalization;
import dev.petal.common.checkpoint.WeightsFile;
import dev.petal.common.data.SyntheticShapes;
import dev.petal.common.image.Preprocessor;
import dev.petal.common.model.Precision;
import dev.petal.common.model.ServingRuntime;
import dev.petal.common.training.ModelSession;
import dev.petal.common.training.TrainingSettings;
import java.io.ByteArrayInputStream;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClassifierTest {
    private static final ModelSpec SPEC = new ModelSpec(Architecture.RESNET18, SyntheticShapes.LABELS, 16, Stem.SMALL, Normalization.IMAGENET);

    /** On each serving runtime: the trainer's validation forward is what every runtime must agree with. */
    @ParameterizedTest
    @CsvSource({"fp32, libtorch, 1e-4", "bf16, libtorch, 2e-2", "fp32, onnxruntime, 1e-4", "fp32, auto, 1e-4", "bf16, auto, 2e-2"})
    void scoresLikeTheTrainersValidationAfterASaveAndLoad(String precision, String runtime, double tolerance) {
        int batch = 4;
        Shapes shapes = Shapes.of(batch, 3);
        float[] pixels = shapes.pixels();
        try (ModelSession session = shapes.trainedOn()) {
            float[][] logits = session.logits(pixels, batch);
            byte[] weights = WeightsFile.toBytes(session.parameters());
            ServingRuntime asked = ServingRuntime.parse(runtime);
            try (Classifier classifier = Classifier.load(SPEC, new ByteArrayInputStream(weights), new ModelId("t", "1", "x"), Device.cpu(),
                    Precision.parse(precision), asked)) {
                assertEquals(Precision.parse(precision), classifier.precision());
                if (asked != ServingRuntime.AUTO) {
                    assertEquals(asked, classifier.runtime());
                } else if (classifier.precision() == Precision.BF16) {
                    assertEquals(ServingRuntime.LIBTORCH, classifier.runtime(), "ONNX Runtime serves fp32 only");
                }
                List<List<Prediction.Scored>> top = classifier.topK(pixels, batch, 4);
                for (int i = 0; i < batch; i++) {
                    double[] expected = softmax(logits[i]);
                    for (Prediction.Scored s : top.get(i)) {
                        assertEquals(expected[SPEC.labels().indexOf(s.label())], s.score(), tolerance, "image " + i + " " + s.label());
                    }
                    assertEquals(4, top.get(i).size());
                }
            }
        }
    }

    /** Trained at 16 px, served at 24: validation scores at the serving size, with the serving program inference loads. */
    @Test
    void aNetworkTrainedSmallerIsValidatedAtTheSizeItServes() {
        ModelSpec served = SPEC.withImageSize(24);
        SyntheticShapes shapes = new SyntheticShapes(16, 5);
        Preprocessor small = SPEC.preprocessor();
        Preprocessor large = served.preprocessor();
        int batch = 4;
        float[] train = new float[batch * small.tensorLength()];
        float[] score = new float[batch * large.tensorLength()];
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            SyntheticShapes.Sample s = shapes.next();
            small.toTensor(s.image(), train, i * small.tensorLength());
            large.toTensor(s.image(), score, i * large.tensorLength());
            labels[i] = s.label();
        }
        try (ModelSession session = new ModelSession(served, TrainingSettings.seedRecipe(3), Device.cpu(), null, Precision.FP32, 16)) {
            assertEquals(16, session.trainingImageSize());
            for (int step = 0; step < 3; step++) {
                session.trainStep(train, labels);
            }
            float[][] logits = session.logits(score, batch);
            byte[] weights = WeightsFile.toBytes(session.parameters());
            try (Classifier classifier = Classifier.load(served, new ByteArrayInputStream(weights), new ModelId("t", "1", "x"), Device.cpu(),
                    Precision.FP32)) {
                List<List<Prediction.Scored>> top = classifier.topK(score, batch, 4);
                for (int i = 0; i < batch; i++) {
                    double[] expected = softmax(logits[i]);
                    for (Prediction.Scored s : top.get(i)) {
                        assertEquals(expected[served.labels().indexOf(s.label())], s.score(), 1e-4, "image " + i + " " + s.label());
                    }
                }
            }
            ModelSpec otherHead = served.withLabels(List.of("a", "b"));
            assertThrows(IllegalArgumentException.class, () -> session.parameters().laidOutFor(otherHead.plan()));
        }
    }

    @Test
    void onnxRuntimeInBf16IsRefusedWithWhatToGive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Classifier.load(SPEC,
                new ByteArrayInputStream(new byte[0]), new ModelId("t", "1", "x"), Device.cpu(), Precision.BF16, ServingRuntime.ONNXRUNTIME));
        assertEquals("ONNX Runtime serves fp32 and int8 on a CPU: choose precision fp32 or int8 and a CPU device, or the libtorch runtime",
                e.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> ServingRuntime.parse("tensorrt"));
        assertEquals("unknown serving runtime 'tensorrt': give one of auto, libtorch, onnxruntime", unknown.getMessage());
    }

    /**
     * Int8 on ONNX Runtime, calibrated by the trainer's session on the images it then scores: within rounding of the
     * trainer's fp32 forward (torchvision's own numbers: TorchvisionParityTest), whatever runtime was asked but libtorch.
     */
    @ParameterizedTest
    @CsvSource({"onnxruntime", "auto"})
    void int8ScoresWithinRoundingOfTheTrainersForward(String runtime) {
        int batch = 8;
        Shapes shapes = Shapes.of(batch, 7);
        float[] pixels = shapes.pixels();
        try (ModelSession session = shapes.trainedOn()) {
            float[][] logits = session.logits(pixels, batch);
            ActivationRanges ranges;
            try (Int8Calibration calibration = session.int8Calibration()) {
                calibration.add(pixels, batch);
                ranges = calibration.ranges();
            }
            byte[] weights = WeightsFile.toBytes(session.parameters());
            try (Classifier classifier = Classifier.load(SPEC, new ByteArrayInputStream(weights), new ModelId("t", "1", "x"), Device.cpu(),
                    Precision.INT8, ServingRuntime.parse(runtime), ranges)) {
                assertEquals(Precision.INT8, classifier.precision());
                assertEquals(ServingRuntime.ONNXRUNTIME, classifier.runtime());
                List<List<Prediction.Scored>> top = classifier.topK(pixels, batch, 4);
                for (int i = 0; i < batch; i++) {
                    double[] expected = softmax(logits[i]);
                    for (Prediction.Scored s : top.get(i)) {
                        assertEquals(expected[SPEC.labels().indexOf(s.label())], s.score(), 0.05, "image " + i + " " + s.label());
                    }
                }
            }
        }
    }

    @Test
    void int8IsRefusedOnLibtorchAndWithoutACalibration() {
        ModelId id = new ModelId("flowers", "v3", "x");
        IllegalArgumentException onLibtorch = assertThrows(IllegalArgumentException.class, () -> Classifier.load(SPEC,
                new ByteArrayInputStream(new byte[0]), id, Device.cpu(), Precision.INT8, ServingRuntime.LIBTORCH));
        assertEquals("int8 runs on ONNX Runtime: give the auto or onnxruntime runtime, or fp32 or bf16 on libtorch", onLibtorch.getMessage());
        IllegalArgumentException uncalibrated = assertThrows(IllegalArgumentException.class, () -> Classifier.load(SPEC,
                new ByteArrayInputStream(new byte[0]), id, Device.cpu(), Precision.INT8, ServingRuntime.AUTO));
        assertEquals("model flowers/v3 carries no int8 calibration (the trainer measures one for each validated epoch): serve it in"
                + " fp32 or bf16, or a validated version", uncalibrated.getMessage());
        assertEquals("unknown precision 'int4'; choose fp32, bf16 or int8",
                assertThrows(IllegalArgumentException.class, () -> Precision.parse("int4")).getMessage());
    }

    @Test
    void weightsOfAnotherShapeAreAnIntegrityError() {
        ModelSpec five = SPEC.withLabels(List.of("a", "b", "c", "d", "e"));
        byte[] fourClasses;
        try (ModelSession session = new ModelSession(SPEC, TrainingSettings.seedRecipe(1), Device.cpu())) {
            fourClasses = WeightsFile.toBytes(session.parameters());
        }
        assertThrows(CheckpointIntegrityException.class,
                () -> Classifier.load(five, new ByteArrayInputStream(fourClasses), new ModelId("t", "1", "x"), Device.cpu(), Precision.FP32));
    }

    /** {@code batch} generated shapes at 16 px, preprocessed one after another, and their labels. */
    private record Shapes(float[] pixels, int[] labels) {
        static Shapes of(int batch, long seed) {
            SyntheticShapes shapes = new SyntheticShapes(16, seed);
            Preprocessor pre = SPEC.preprocessor();
            float[] pixels = new float[batch * pre.tensorLength()];
            int[] labels = new int[batch];
            for (int i = 0; i < batch; i++) {
                SyntheticShapes.Sample s = shapes.next();
                pre.toTensor(s.image(), pixels, i * pre.tensorLength());
                labels[i] = s.label();
            }
            return new Shapes(pixels, labels);
        }

        /** A session trained 3 steps on these: the BatchNorm running statistics moved away from their start. */
        ModelSession trainedOn() {
            ModelSession session = new ModelSession(SPEC, TrainingSettings.seedRecipe(3), Device.cpu());
            for (int step = 0; step < 3; step++) {
                session.trainStep(pixels, labels);
            }
            return session;
        }
    }

    private static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = Math.exp(logits[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= sum;
        }
        return out;
    }
}
