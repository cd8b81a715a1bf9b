/*
 * Vireo's DSDT for the `pc` board: i440FX host bridge, PIIX3 PCI-to-ISA
 * bridge (00:01.0) with the PIIX4 power-management function (00:01.3),
 * local APIC, IOAPIC and HPET.
 *
 * Built by `make` with Debian's iasl (package acpica-tools) into
 * build/acpi/dsdt.aml and compiled into the program as a C array
 * (build/acpi/dsdt_aml.c); machine/acpi.c puts it behind the FADT, both
 * for SeaBIOS (fw_cfg "etc/acpi/tables") and for direct Linux boot.
 *
 * Written from the ACPI 6.4 specification:
 *   5.2.11.1   the DSDT;
 *   6.1.5      _HID with EISA IDs (PNP0A03 PCI host bridge, PNP0C0F PCI
 *              interrupt link, PNP0B00 RTC, PNP0303 keyboard, PNP0F13
 *              mouse, PNP0501 16550 UART, PNP0000 8259, PNP0100 8254,
 *              PNP0103 HPET, PNP0C02 motherboard resources), ACPI0007
 *              processor device (8.4);
 *   6.2.2      _CRS, 6.2.12 _PRS, 6.2.16 _SRS, 6.2.3 _DIS, 6.3.7 _STA;
 *   6.2.13     _PRT, with interrupt links (source = a link device);
 *   6.4.3.6    the extended interrupt descriptor (the IRQ number is the
 *              DWord at byte 5: _SRS reads it there);
 *   7.4.2      \_S5 (soft off): the package holds the SLP_TYP values for
 *              PM1a_CNT and PM1b_CNT.  The PIIX4's PMCNTRL SUS_TYP 000b is
 *              soft off, which hw/acpi_pm.c reports as sleep type 0 and the
 *              board (machine/pc_devices.c) turns into power-off, exit 0.
 *   18.x/19.6  ASL: OperationRegion (PCI_Config), Field, ResourceTemplate.
 *
 * Interrupt routing: device INTx# reaches PIRQ[(slot + pin + 3) mod 4]
 * (pin 0 = INTA#), the board's wiring in hw/piix.c (piix_pirq_of), and
 * PIRQA-D are steered to ISA IRQs by the PIIX3 route registers at config
 * offsets 0x60-0x63 (bit 7: disabled, bits 3:0: the IRQ).  Link devices
 * LNKA-LNKD read and write those registers.  The same _PRT serves PIC and
 * APIC modes: an ISA IRQ line reaches the 8259 and the IOAPIC pin of the
 * same number (IRQ0 excepted, which has no PCI use).  The lines are
 * level-triggered and, as the board drives them, active-high (the MADT
 * says the same for IRQ 5, 9, 10 and 11).
 *
 * The 32-bit PCI window runs from the end of low RAM to 0xFEBFFFFF (the
 * IOAPIC, HPET and local APIC sit above).  Where low RAM ends depends on
 * -m, and this file is compiled once: \_SB.PCI0.PHLO holds a marker value
 * that machine/acpi.c replaces with the real address when it builds the
 * tables (it must occur exactly once in the AML), and _CRS computes the
 * window from it.  64-bit BARs above 4 GiB are not described.
 */
DefinitionBlock ("", "DSDT", 2, "VIREO", "VIREOPC", 1)
{
    /* Soft off: SLP_TYP 0 (PIIX4 SUS_TYP 000b).  No other sleep state is
     * offered. */
    Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })

    Scope (\_SB)
    {
        /* The processor of MADT entry "ACPI processor UID 0". */
        Device (CPU0)
        {
            Name (_HID, "ACPI0007")
            Name (_UID, Zero)
        }

        /* ---- PCI interrupt links ---------------------------------------- */

        /* The ISA IRQs a PIRQ may take; SeaBIOS routes PIRQA-D to 10, 10,
         * 11, 11. */
        Name (PRSI, ResourceTemplate ()
        {
            Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, , , )
                { 5, 10, 11 }
        })

        /* _STA of a link from its route register: present and functioning,
         * enabled unless bit 7 is set. */
        Method (LSTA, 1, NotSerialized)
        {
            If ((Arg0 & 0x80))
            {
                Return (0x09)
            }
            Return (0x0B)
        }

        /* _CRS of a link: its IRQ, or IRQ 0 while disabled. */
        Method (LCRS, 1, Serialized)
        {
            Name (RBUF, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, , , IRQX)
                    { 0 }
            })
            CreateDWordField (RBUF, IRQX._INT, IRQN)
            If (!(Arg0 & 0x80))
            {
                IRQN = (Arg0 & 0x0F)
            }
            Return (RBUF)
        }

        /* The IRQ an _SRS buffer (one extended interrupt descriptor)
         * asks for. */
        Method (LSRS, 1, NotSerialized)
        {
            CreateDWordField (Arg0, 0x05, IRQN)
            Return ((IRQN & 0x0F))
        }

        Device (LNKA)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, One)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQA)) }
            Method (_PRS, 0, NotSerialized) { Return (PRSI) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQA)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQA = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQA |= 0x80 }
        }

        Device (LNKB)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x02)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQB)) }
            Method (_PRS, 0, NotSerialized) { Return (PRSI) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQB)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQB = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQB |= 0x80 }
        }

        Device (LNKC)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x03)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQC)) }
            Method (_PRS, 0, NotSerialized) { Return (PRSI) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQC)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQC = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQC |= 0x80 }
        }

        Device (LNKD)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x04)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQD)) }
            Method (_PRS, 0, NotSerialized) { Return (PRSI) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQD)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQD = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQD |= 0x80 }
        }

        /* ---- the HPET (IA-PC HPET specification 1.0a, 3.2.5) -------------- */

        Device (HPET)
        {
            Name (_HID, EisaId ("PNP0103"))
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadOnly, 0xFED00000, 0x00000400, )
            })
        }

        /* ---- the PCI host bridge: i440FX, bus 0 ----------------------------- */

        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_BBN, Zero)

            /* The first address above low RAM: a marker, replaced by
             * machine/acpi.c (ACPI_DSDT_LOWMEM_MARKER). */
            Name (PHLO, 0x5EEDC0DE)

            Method (_CRS, 0, Serialized)
            {
                Name (RBUF, ResourceTemplate ()
                {
                    WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                        0x0000, 0x0000, 0x00FF, 0x0000, 0x0100, , , )
                    /* The configuration ports 0xCF8-0xCFF (and the PIIX3's
                     * reset control at 0xCF9) belong to the bridge. */
                    IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08, )
                    WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                        0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8, , , , TypeStatic, DenseTranslation)
                    WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                        0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300, , , , TypeStatic, DenseTranslation)
                    /* The legacy VGA window. */
                    DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
                        Cacheable, ReadWrite,
                        0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000, , , ,
                        AddressRangeMemory, TypeStatic)
                    /* The PCI hole: from the end of low RAM, set below. */
                    DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
                        Cacheable, ReadWrite,
                        0x00000000, 0xE0000000, 0xFEBFFFFF, 0x00000000, 0x1EC00000, , , HOLE,
                        AddressRangeMemory, TypeStatic)
                })
                CreateDWordField (RBUF, HOLE._MIN, HMIN)
                CreateDWordField (RBUF, HOLE._LEN, HLEN)
                HMIN = PHLO
                HLEN = (0xFEC00000 - PHLO)
                Return (RBUF)
            }

            /* Slot/pin -> link: PIRQ[(slot + pin + 3) mod 4], pin 0 = INTA#. */
            Name (_PRT, Package ()
            {
                Package () { 0x0000FFFF, 0, LNKD, 0 }, Package () { 0x0000FFFF, 1, LNKA, 0 },
                Package () { 0x0000FFFF, 2, LNKB, 0 }, Package () { 0x0000FFFF, 3, LNKC, 0 },
                Package () { 0x0001FFFF, 0, LNKA, 0 }, Package () { 0x0001FFFF, 1, LNKB, 0 },
                Package () { 0x0001FFFF, 2, LNKC, 0 }, Package () { 0x0001FFFF, 3, LNKD, 0 },
                Package () { 0x0002FFFF, 0, LNKB, 0 }, Package () { 0x0002FFFF, 1, LNKC, 0 },
                Package () { 0x0002FFFF, 2, LNKD, 0 }, Package () { 0x0002FFFF, 3, LNKA, 0 },
                Package () { 0x0003FFFF, 0, LNKC, 0 }, Package () { 0x0003FFFF, 1, LNKD, 0 },
                Package () { 0x0003FFFF, 2, LNKA, 0 }, Package () { 0x0003FFFF, 3, LNKB, 0 },
                Package () { 0x0004FFFF, 0, LNKD, 0 }, Package () { 0x0004FFFF, 1, LNKA, 0 },
                Package () { 0x0004FFFF, 2, LNKB, 0 }, Package () { 0x0004FFFF, 3, LNKC, 0 },
                Package () { 0x0005FFFF, 0, LNKA, 0 }, Package () { 0x0005FFFF, 1, LNKB, 0 },
                Package () { 0x0005FFFF, 2, LNKC, 0 }, Package () { 0x0005FFFF, 3, LNKD, 0 },
                Package () { 0x0006FFFF, 0, LNKB, 0 }, Package () { 0x0006FFFF, 1, LNKC, 0 },
                Package () { 0x0006FFFF, 2, LNKD, 0 }, Package () { 0x0006FFFF, 3, LNKA, 0 },
                Package () { 0x0007FFFF, 0, LNKC, 0 }, Package () { 0x0007FFFF, 1, LNKD, 0 },
                Package () { 0x0007FFFF, 2, LNKA, 0 }, Package () { 0x0007FFFF, 3, LNKB, 0 },
                Package () { 0x0008FFFF, 0, LNKD, 0 }, Package () { 0x0008FFFF, 1, LNKA, 0 },
                Package () { 0x0008FFFF, 2, LNKB, 0 }, Package () { 0x0008FFFF, 3, LNKC, 0 },
                Package () { 0x0009FFFF, 0, LNKA, 0 }, Package () { 0x0009FFFF, 1, LNKB, 0 },
                Package () { 0x0009FFFF, 2, LNKC, 0 }, Package () { 0x0009FFFF, 3, LNKD, 0 },
                Package () { 0x000AFFFF, 0, LNKB, 0 }, Package () { 0x000AFFFF, 1, LNKC, 0 },
                Package () { 0x000AFFFF, 2, LNKD, 0 }, Package () { 0x000AFFFF, 3, LNKA, 0 },
                Package () { 0x000BFFFF, 0, LNKC, 0 }, Package () { 0x000BFFFF, 1, LNKD, 0 },
                Package () { 0x000BFFFF, 2, LNKA, 0 }, Package () { 0x000BFFFF, 3, LNKB, 0 },
                Package () { 0x000CFFFF, 0, LNKD, 0 }, Package () { 0x000CFFFF, 1, LNKA, 0 },
                Package () { 0x000CFFFF, 2, LNKB, 0 }, Package () { 0x000CFFFF, 3, LNKC, 0 },
                Package () { 0x000DFFFF, 0, LNKA, 0 }, Package () { 0x000DFFFF, 1, LNKB, 0 },
                Package () { 0x000DFFFF, 2, LNKC, 0 }, Package () { 0x000DFFFF, 3, LNKD, 0 },
                Package () { 0x000EFFFF, 0, LNKB, 0 }, Package () { 0x000EFFFF, 1, LNKC, 0 },
                Package () { 0x000EFFFF, 2, LNKD, 0 }, Package () { 0x000EFFFF, 3, LNKA, 0 },
                Package () { 0x000FFFFF, 0, LNKC, 0 }, Package () { 0x000FFFFF, 1, LNKD, 0 },
                Package () { 0x000FFFFF, 2, LNKA, 0 }, Package () { 0x000FFFFF, 3, LNKB, 0 },
                Package () { 0x0010FFFF, 0, LNKD, 0 }, Package () { 0x0010FFFF, 1, LNKA, 0 },
                Package () { 0x0010FFFF, 2, LNKB, 0 }, Package () { 0x0010FFFF, 3, LNKC, 0 },
                Package () { 0x0011FFFF, 0, LNKA, 0 }, Package () { 0x0011FFFF, 1, LNKB, 0 },
                Package () { 0x0011FFFF, 2, LNKC, 0 }, Package () { 0x0011FFFF, 3, LNKD, 0 },
                Package () { 0x0012FFFF, 0, LNKB, 0 }, Package () { 0x0012FFFF, 1, LNKC, 0 },
                Package () { 0x0012FFFF, 2, LNKD, 0 }, Package () { 0x0012FFFF, 3, LNKA, 0 },
                Package () { 0x0013FFFF, 0, LNKC, 0 }, Package () { 0x0013FFFF, 1, LNKD, 0 },
                Package () { 0x0013FFFF, 2, LNKA, 0 }, Package () { 0x0013FFFF, 3, LNKB, 0 },
                Package () { 0x0014FFFF, 0, LNKD, 0 }, Package () { 0x0014FFFF, 1, LNKA, 0 },
                Package () { 0x0014FFFF, 2, LNKB, 0 }, Package () { 0x0014FFFF, 3, LNKC, 0 },
                Package () { 0x0015FFFF, 0, LNKA, 0 }, Package () { 0x0015FFFF, 1, LNKB, 0 },
                Package () { 0x0015FFFF, 2, LNKC, 0 }, Package () { 0x0015FFFF, 3, LNKD, 0 },
                Package () { 0x0016FFFF, 0, LNKB, 0 }, Package () { 0x0016FFFF, 1, LNKC, 0 },
                Package () { 0x0016FFFF, 2, LNKD, 0 }, Package () { 0x0016FFFF, 3, LNKA, 0 },
                Package () { 0x0017FFFF, 0, LNKC, 0 }, Package () { 0x0017FFFF, 1, LNKD, 0 },
                Package () { 0x0017FFFF, 2, LNKA, 0 }, Package () { 0x0017FFFF, 3, LNKB, 0 },
                Package () { 0x0018FFFF, 0, LNKD, 0 }, Package () { 0x0018FFFF, 1, LNKA, 0 },
                Package () { 0x0018FFFF, 2, LNKB, 0 }, Package () { 0x0018FFFF, 3, LNKC, 0 },
                Package () { 0x0019FFFF, 0, LNKA, 0 }, Package () { 0x0019FFFF, 1, LNKB, 0 },
                Package () { 0x0019FFFF, 2, LNKC, 0 }, Package () { 0x0019FFFF, 3, LNKD, 0 },
                Package () { 0x001AFFFF, 0, LNKB, 0 }, Package () { 0x001AFFFF, 1, LNKC, 0 },
                Package () { 0x001AFFFF, 2, LNKD, 0 }, Package () { 0x001AFFFF, 3, LNKA, 0 },
                Package () { 0x001BFFFF, 0, LNKC, 0 }, Package () { 0x001BFFFF, 1, LNKD, 0 },
                Package () { 0x001BFFFF, 2, LNKA, 0 }, Package () { 0x001BFFFF, 3, LNKB, 0 },
                Package () { 0x001CFFFF, 0, LNKD, 0 }, Package () { 0x001CFFFF, 1, LNKA, 0 },
                Package () { 0x001CFFFF, 2, LNKB, 0 }, Package () { 0x001CFFFF, 3, LNKC, 0 },
                Package () { 0x001DFFFF, 0, LNKA, 0 }, Package () { 0x001DFFFF, 1, LNKB, 0 },
                Package () { 0x001DFFFF, 2, LNKC, 0 }, Package () { 0x001DFFFF, 3, LNKD, 0 },
                Package () { 0x001EFFFF, 0, LNKB, 0 }, Package () { 0x001EFFFF, 1, LNKC, 0 },
                Package () { 0x001EFFFF, 2, LNKD, 0 }, Package () { 0x001EFFFF, 3, LNKA, 0 },
                Package () { 0x001FFFFF, 0, LNKC, 0 }, Package () { 0x001FFFFF, 1, LNKD, 0 },
                Package () { 0x001FFFFF, 2, LNKA, 0 }, Package () { 0x001FFFFF, 3, LNKB, 0 }
            })

            /* ---- PIIX3 PCI-to-ISA bridge, 00:01.0 ----------------------- */

            Device (ISA)
            {
                Name (_ADR, 0x00010000)

                /* PIRQRC[A:D], the route of each PIRQ (82371SB datasheet). */
                OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)
                Field (PIRQ, ByteAcc, NoLock, Preserve)
                {
                    PRQA,   8,
                    PRQB,   8,
                    PRQC,   8,
                    PRQD,   8
                }

                Device (PIC)
                {
                    Name (_HID, EisaId ("PNP0000"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0020, 0x0020, 0x01, 0x02, )
                        IO (Decode16, 0x00A0, 0x00A0, 0x01, 0x02, )
                        /* ELCR */
                        IO (Decode16, 0x04D0, 0x04D0, 0x01, 0x02, )
                        IRQNoFlags () { 2 }
                    })
                }

                Device (TMR)
                {
                    Name (_HID, EisaId ("PNP0100"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0040, 0x0040, 0x01, 0x04, )
                        IRQNoFlags () { 0 }
                    })
                }

                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x01, 0x02, )
                        IRQNoFlags () { 8 }
                    })
                }

                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01, )
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01, )
                        IRQNoFlags () { 1 }
                    })
                }

                Device (MOU)
                {
                    Name (_HID, EisaId ("PNP0F13"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () { 12 }
                    })
                }

                /* COM1 always exists (the board has at least one UART). */
                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, One)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08, )
                        IRQNoFlags () { 4 }
                    })
                }

                /* Ports of the board that no other device claims: APM
                 * (0xB2-0xB3), fw_cfg (0x510-0x51B), the PIIX4 PM block
                 * where SeaBIOS and Vireo's direct boot put it (0x600-0x63F),
                 * its SMBus host (0x700-0x70F, set by SeaBIOS) and GPE0
                 * (0xAFE0-0xAFE3). */
                Device (MBRD)
                {
                    Name (_HID, EisaId ("PNP0C02"))
                    Name (_UID, One)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x00B2, 0x00B2, 0x01, 0x02, )
                        IO (Decode16, 0x0510, 0x0510, 0x01, 0x0C, )
                        IO (Decode16, 0x0600, 0x0600, 0x01, 0x40, )
                        IO (Decode16, 0x0700, 0x0700, 0x01, 0x10, )
                        IO (Decode16, 0xAFE0, 0xAFE0, 0x01, 0x04, )
                    })
                }
            }
        }
    }
}
