# accel board flow, step 2 of 3: the Vivado block design around the accelerator IP.
#   Zynq PS7 (board preset, FCLK0 = accelerator clock, M_AXI_GP0 = control, S_AXI_HP0 = data)
#   AXI DMA in simple (direct register) mode: MM2S -> accelerator input stream, accelerator output stream -> S2MM
#   proc_sys_reset on FCLK0; the accelerator's reset taken from the polarity the manifest states
#   AXI GPIO (one input, on GP0) reading the accelerator's sticky TLAST-error output, when it has one
# Every board/model fact comes from settings.tcl (written from build.json); this file is the same for every build.
# Run: vivado -mode batch -source block_design.tcl   (after the IP step; build_bitstream.sh does all steps)
set script_dir [file dirname [file normalize [info script]]]
source [file join $script_dir settings.tcl]
source [file join $script_dir $accel_ps7_preset_file]

set build_dir [file normalize [file join $script_dir ..]]
set proj_dir [file join $script_dir vivado]
set ip_repo [file normalize [file join $build_dir $accel_ip_repo]]

create_project $accel_project $proj_dir -part $accel_part -force
set_property ip_repo_paths [list $ip_repo] [current_project]
update_ip_catalog -rebuild
if {[get_ipdefs -all $accel_ip_vlnv] eq ""} {
  error "accel: IP $accel_ip_vlnv is not in $ip_repo; run the IP step first (in $build_dir: $accel_ip_make)."
}

create_bd_design $accel_bd_name
current_bd_design $accel_bd_name

# ---- Zynq processing system ------------------------------------------------------------------------------
set ps7 [create_bd_cell -type ip -vlnv xilinx.com:ip:processing_system7:5.5 ps7]
set_property -dict $accel_ps7_preset $ps7
set_property -dict [list \
  CONFIG.PCW_USE_M_AXI_GP0 {1} \
  CONFIG.PCW_USE_S_AXI_HP0 {1} \
  CONFIG.PCW_S_AXI_HP0_DATA_WIDTH $accel_hp0_data_width \
  CONFIG.PCW_EN_CLK0_PORT {1} \
  CONFIG.PCW_EN_RST0_PORT {1} \
  CONFIG.PCW_FPGA_FCLK0_ENABLE {1} \
  CONFIG.PCW_FCLK0_PERIPHERAL_CLKSRC {IO PLL} \
  CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ $accel_fclk_mhz \
  CONFIG.PCW_FCLK0_PERIPHERAL_DIVISOR0 $accel_fclk_divisor0 \
  CONFIG.PCW_FCLK0_PERIPHERAL_DIVISOR1 $accel_fclk_divisor1 \
  CONFIG.PCW_EN_CLK1_PORT {0} \
  CONFIG.PCW_EN_CLK2_PORT {0} \
  CONFIG.PCW_EN_CLK3_PORT {0} \
  CONFIG.PCW_USE_FABRIC_INTERRUPT {0} \
] $ps7
create_bd_intf_port -mode Master -vlnv xilinx.com:interface:ddrx_rtl:1.0 DDR
create_bd_intf_port -mode Master -vlnv xilinx.com:display_processing_system7:fixedio_rtl:1.0 FIXED_IO
connect_bd_intf_net [get_bd_intf_ports DDR] [get_bd_intf_pins ps7/DDR]
connect_bd_intf_net [get_bd_intf_ports FIXED_IO] [get_bd_intf_pins ps7/FIXED_IO]

# ---- reset, DMA, accelerator, interconnects ------------------------------------------------------------------
set rst [create_bd_cell -type ip -vlnv xilinx.com:ip:proc_sys_reset:5.0 rst_fclk0]

set dma [create_bd_cell -type ip -vlnv xilinx.com:ip:axi_dma:7.1 axi_dma_0]
# No data realignment engine: the driver keeps every transfer's start aligned (accel/deploy/dma.py).
# S2MM's stream width is normally propagated from the connected master; ours is set from the manifest instead
set_property -dict [list CONFIG.c_s_axis_s2mm_tdata_width.VALUE_SRC {USER}] $dma
set_property -dict [list \
  CONFIG.c_include_sg {0} \
  CONFIG.c_sg_include_stscntrl_strm {0} \
  CONFIG.c_sg_length_width $accel_dma_length_bits \
  CONFIG.c_include_mm2s {1} \
  CONFIG.c_include_s2mm {1} \
  CONFIG.c_m_axi_mm2s_data_width $accel_dma_mm2s_mm_width \
  CONFIG.c_m_axis_mm2s_tdata_width $accel_dma_mm2s_tdata_bits \
  CONFIG.c_m_axi_s2mm_data_width $accel_dma_s2mm_mm_width \
  CONFIG.c_s_axis_s2mm_tdata_width $accel_dma_s2mm_tdata_bits \
  CONFIG.c_include_mm2s_dre {0} \
  CONFIG.c_include_s2mm_dre {0} \
  CONFIG.c_mm2s_burst_size {16} \
  CONFIG.c_s2mm_burst_size {16} \
] $dma

set acc [create_bd_cell -type ip -vlnv $accel_ip_vlnv accel_0]

set ctrl [create_bd_cell -type ip -vlnv xilinx.com:ip:smartconnect:1.0 smc_ctrl]
set_property -dict [list CONFIG.NUM_SI {1} CONFIG.NUM_MI {1}] $ctrl
set data [create_bd_cell -type ip -vlnv xilinx.com:ip:smartconnect:1.0 smc_data]
set_property -dict [list CONFIG.NUM_SI {2} CONFIG.NUM_MI {1}] $data

# control: PS GP0 -> DMA registers
connect_bd_intf_net [get_bd_intf_pins ps7/M_AXI_GP0] [get_bd_intf_pins smc_ctrl/S00_AXI]
connect_bd_intf_net [get_bd_intf_pins smc_ctrl/M00_AXI] [get_bd_intf_pins axi_dma_0/S_AXI_LITE]
# data: DMA masters -> PS HP0 (DDR)
connect_bd_intf_net [get_bd_intf_pins axi_dma_0/M_AXI_MM2S] [get_bd_intf_pins smc_data/S00_AXI]
connect_bd_intf_net [get_bd_intf_pins axi_dma_0/M_AXI_S2MM] [get_bd_intf_pins smc_data/S01_AXI]
connect_bd_intf_net [get_bd_intf_pins smc_data/M00_AXI] [get_bd_intf_pins ps7/S_AXI_HP0]
# streams: DMA MM2S -> accelerator input, accelerator output -> DMA S2MM.  Where the accelerator's TDATA is not
# a width the DMA accepts (8, 16, 32, ... bits), a data width converter repacks the byte stream without gaps.
set stream_cells {}
proc accel_stream {from to convert from_bytes to_bytes name} {
  upvar stream_cells cells
  if {$convert} {
    set cv [create_bd_cell -type ip -vlnv xilinx.com:ip:axis_dwidth_converter:1.1 $name]
    set_property -dict [list CONFIG.S_TDATA_NUM_BYTES $from_bytes CONFIG.M_TDATA_NUM_BYTES $to_bytes \
      CONFIG.HAS_TLAST {1} CONFIG.HAS_TKEEP {1}] $cv
    connect_bd_intf_net [get_bd_intf_pins $from] [get_bd_intf_pins $name/S_AXIS]
    connect_bd_intf_net [get_bd_intf_pins $name/M_AXIS] [get_bd_intf_pins $to]
    lappend cells $name
  } else {
    connect_bd_intf_net [get_bd_intf_pins $from] [get_bd_intf_pins $to]
  }
}
accel_stream axi_dma_0/M_AXIS_MM2S accel_0/$accel_port_s_axis $accel_in_convert \
  [expr {$accel_dma_mm2s_tdata_bits / 8}] [expr {$accel_in_tdata_bits / 8}] axis_in_width
accel_stream accel_0/$accel_port_m_axis axi_dma_0/S_AXIS_S2MM $accel_out_convert \
  [expr {$accel_out_tdata_bits / 8}] [expr {$accel_dma_s2mm_tdata_bits / 8}] axis_out_width

# one clock: FCLK0 at the accelerator's clock drives everything in the fabric
connect_bd_net [get_bd_pins ps7/FCLK_CLK0] \
  [get_bd_pins ps7/M_AXI_GP0_ACLK] [get_bd_pins ps7/S_AXI_HP0_ACLK] \
  [get_bd_pins rst_fclk0/slowest_sync_clk] \
  [get_bd_pins axi_dma_0/s_axi_lite_aclk] [get_bd_pins axi_dma_0/m_axi_mm2s_aclk] \
  [get_bd_pins axi_dma_0/m_axi_s2mm_aclk] \
  [get_bd_pins smc_ctrl/aclk] [get_bd_pins smc_data/aclk] \
  [get_bd_pins accel_0/$accel_port_clock]
# FCLK0 = IO PLL / (divisor0 * divisor1) = $accel_fclk_hz Hz; the IP step gave the accelerator's clock interface
# the same FREQ_HZ (from settings.tcl too), which validate_bd_design compares with FCLK0's.  An IP that leaves
# FREQ_HZ to the design takes it here; one that fixes it refuses the property and already states the same number.
catch {set_property CONFIG.FREQ_HZ $accel_fclk_hz [get_bd_pins accel_0/$accel_port_clock]}
puts "accel: FCLK0 [get_property CONFIG.FREQ_HZ [get_bd_pins ps7/FCLK_CLK0]] Hz per the PS7, $accel_fclk_hz Hz per accel"
connect_bd_net [get_bd_pins ps7/FCLK_RESET0_N] [get_bd_pins rst_fclk0/ext_reset_in]
connect_bd_net [get_bd_pins rst_fclk0/peripheral_aresetn] \
  [get_bd_pins axi_dma_0/axi_resetn] [get_bd_pins smc_ctrl/aresetn] [get_bd_pins smc_data/aresetn]
foreach cv $stream_cells {
  connect_bd_net [get_bd_pins ps7/FCLK_CLK0] [get_bd_pins $cv/aclk]
  connect_bd_net [get_bd_pins rst_fclk0/peripheral_aresetn] [get_bd_pins $cv/aresetn]
}
# the accelerator's reset: active-low ports take peripheral_aresetn, active-high ones peripheral_reset
if {$accel_reset_active_low} {
  connect_bd_net [get_bd_pins rst_fclk0/peripheral_aresetn] [get_bd_pins accel_0/$accel_port_reset]
} else {
  connect_bd_net [get_bd_pins rst_fclk0/peripheral_reset] [get_bd_pins accel_0/$accel_port_reset]
}

# the accelerator's sticky TLAST-error output (RTL builds: accel/rtl/tlast.py), read by the driver after every batch
# through a one-bit AXI GPIO input on the control interconnect; "" when the accelerator has none (HLS builds)
if {$accel_port_tlast_err ne ""} {
  set gpio [create_bd_cell -type ip -vlnv xilinx.com:ip:axi_gpio:2.0 $accel_tlast_gpio]
  set_property -dict [list CONFIG.C_GPIO_WIDTH {1} CONFIG.C_ALL_INPUTS {1}] $gpio
  set_property -dict [list CONFIG.NUM_MI {2}] $ctrl
  connect_bd_intf_net [get_bd_intf_pins smc_ctrl/M01_AXI] [get_bd_intf_pins $accel_tlast_gpio/S_AXI]
  connect_bd_net [get_bd_pins ps7/FCLK_CLK0] [get_bd_pins $accel_tlast_gpio/s_axi_aclk]
  connect_bd_net [get_bd_pins rst_fclk0/peripheral_aresetn] [get_bd_pins $accel_tlast_gpio/s_axi_aresetn]
  connect_bd_net [get_bd_pins accel_0/$accel_port_tlast_err] [get_bd_pins $accel_tlast_gpio/gpio_io_i]
}

assign_bd_address
validate_bd_design
save_bd_design

set bd_file [get_files $accel_bd_name.bd]
generate_target all $bd_file
set wrapper [make_wrapper -files $bd_file -top]
add_files -norecurse $wrapper
set_property top ${accel_bd_name}_wrapper [current_fileset]
update_compile_order -fileset sources_1
close_project
puts "accel: block design $accel_bd_name written to $proj_dir"
