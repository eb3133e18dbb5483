package dev.petal.common.engine;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Autograd off on this thread until closed, then back as it was: for programs that change leaves
 * that require a gradient in place (TorchScript archives cannot say {@code torch.no_grad()}).
 */
public final class GradModeOff implements AutoCloseable {
    private final boolean previous = JniUtils.isGradMode();

    public GradModeOff() {
        JniUtils.setGradMode(false);
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
