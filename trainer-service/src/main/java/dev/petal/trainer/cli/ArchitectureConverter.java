package dev.petal.trainer.cli;

import dev.petal.common.model.Architecture;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Lets picocli report a bad {@code --arch} as a usage error (exit code 2) with the valid names. */
public class ArchitectureConverter implements ITypeConverter<Architecture> {
    @Override
    public Architecture convert(String value) {
        try {
            return Architecture.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
