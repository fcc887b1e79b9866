// accel_frame_last: output TLAST follows input TLAST, frame by frame, between accel_top's ports and the network
//
// Stream contract: output TLAST is high on the last beat of output frame k if and only if the last beat of
// input frame k carried TLAST; TLAST on any other input beat is ignored.  A source that marks every input
// frame gets every output frame marked (as the network's blocks do by themselves); a DMA that sends a batch in
// one transfer (TLAST on the batch's last beat only) gets the batch back as one packet.
//
// Input side: counts the beats of s_axis (IN_BEATS per frame) and, on the handshake of a frame's last beat,
// pushes that beat's TLAST into a queue of DEPTH flags.  While the queue is full, s_axis_tready is held low
// for a frame's last beat only (other beats pass).  s_axis_tready never depends on s_axis_tvalid.
// Output side: the network marks each of its frames' last beat itself (s_net_axis_tlast); that beat is held
// (m_axis_tvalid and s_net_axis_tready low) until the queue holds its frame's flag, then leaves with
// m_axis_tlast = the flag, which is popped on its handshake.  Every other beat passes combinationally (tdata,
// tvalid, tready): no register on the data path, no latency added.  A network may finish an output frame
// before it has taken the last beat of the input frame (valid windows with stride, pools that floor drop
// trailing rows): the hold then lasts until that input beat is taken, which needs the network to keep
// taking input while its output is held (its FIFOs between blocks give it that).
// TLAST check: TLAST on an input beat that is not a frame's last (by the beat counter) is a framing error that
// sets tlast_err, sticky until reset; TLAST absent at a frame's end is legal (a DMA marks only a batch's end).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_frame_last #(
    parameter IN_BEATS  = 4,  // beats per input frame (>= 1)
    parameter DEPTH     = 8,  // input frames whose TLAST flag can wait for their output frame (>= 1)
    parameter IN_WIDTH  = 8,  // TDATA width of the input stream in bits (>= 1)
    parameter OUT_WIDTH = 8   // TDATA width of the output stream in bits (>= 1)
) (
    input  wire                 clk,
    input  wire                 rst,
    // input stream from outside
    input  wire [IN_WIDTH-1:0]  s_axis_tdata,
    input  wire                 s_axis_tvalid,
    output wire                 s_axis_tready,
    input  wire                 s_axis_tlast,
    // input stream into the network (TLAST on each frame's last beat)
    output wire [IN_WIDTH-1:0]  m_net_axis_tdata,
    output wire                 m_net_axis_tvalid,
    input  wire                 m_net_axis_tready,
    output wire                 m_net_axis_tlast,
    // output stream of the network (TLAST on each frame's last beat)
    input  wire [OUT_WIDTH-1:0] s_net_axis_tdata,
    input  wire                 s_net_axis_tvalid,
    output wire                 s_net_axis_tready,
    input  wire                 s_net_axis_tlast,
    // output stream to outside (TLAST as the input frame's last beat carried it)
    output wire [OUT_WIDTH-1:0] m_axis_tdata,
    output wire                 m_axis_tvalid,
    input  wire                 m_axis_tready,
    output wire                 m_axis_tlast,
    // sticky: an input beat that is not a frame's last carried TLAST (cleared by reset)
    output reg                  tlast_err
);

    localparam BW = (IN_BEATS > 1) ? $clog2(IN_BEATS) : 1;  // input beat counter bits
    localparam CW = (DEPTH > 0) ? $clog2(DEPTH + 1) : 1;     // flag count bits
    localparam AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;         // flag ring address bits
    localparam [AW-1:0] LAST_ADDR = DEPTH[AW-1:0] - 1'b1;
    localparam [BW-1:0] LAST_BEAT = IN_BEATS[BW-1:0] - 1'b1;

    initial begin
        if (IN_BEATS < 1 || DEPTH < 1 || IN_WIDTH < 1 || OUT_WIDTH < 1) begin
            $error("%m: accel_frame_last needs IN_BEATS, DEPTH, IN_WIDTH, OUT_WIDTH >= 1 (IN_BEATS=%0d DEPTH=%0d IN_WIDTH=%0d OUT_WIDTH=%0d)",
                   IN_BEATS, DEPTH, IN_WIDTH, OUT_WIDTH);
            $finish;
        end
    end

    reg  [BW-1:0] beat;             // beats of the current input frame taken so far
    reg           in_last;          // beat is the frame's last (registered: no compare on the handshake paths)
    reg  [CW-1:0] count;            // flags queued
    reg           empty, full;      // count == 0, count == DEPTH (registered likewise)
    reg  [AW-1:0] wr_addr, rd_addr;
    reg           flags [0:DEPTH-1];  // a ring of TLAST flags (LUT-RAM; data, not reset)

    wire in_hold = in_last && full;             // state only: ready never waits on valid
    wire out_hold = s_net_axis_tlast && empty;

    assign m_net_axis_tdata = s_axis_tdata;
    assign m_net_axis_tvalid = s_axis_tvalid && !in_hold;
    assign m_net_axis_tlast = in_last;
    assign s_axis_tready = m_net_axis_tready && !in_hold;

    assign m_axis_tdata = s_net_axis_tdata;
    assign m_axis_tvalid = s_net_axis_tvalid && !out_hold;
    assign m_axis_tlast = s_net_axis_tlast && flags[rd_addr];
    assign s_net_axis_tready = m_axis_tready && !out_hold;

    wire in_fire = s_axis_tvalid && s_axis_tready;
    wire push = in_fire && in_last;
    wire out_fire = m_axis_tvalid && m_axis_tready;  // an output beat leaves (the monitors' progress wire)
    wire pop = out_fire && s_net_axis_tlast;

    always @(posedge clk) begin
        if (push) flags[wr_addr] <= s_axis_tlast;
    end

    wire [BW-1:0] beat_next = in_last ? {BW{1'b0}} : beat + 1'b1;

    always @(posedge clk) begin
        if (rst) begin
            beat <= {BW{1'b0}};
            in_last <= (LAST_BEAT == {BW{1'b0}});
            count <= {CW{1'b0}};
            empty <= 1'b1;
            full <= 1'b0;
            wr_addr <= {AW{1'b0}};
            rd_addr <= {AW{1'b0}};
            tlast_err <= 1'b0;
        end else begin
            if (in_fire && s_axis_tlast && !in_last) tlast_err <= 1'b1;
            if (in_fire) begin
                beat <= beat_next;
                in_last <= (beat_next == LAST_BEAT);
            end
            if (push) wr_addr <= (wr_addr == LAST_ADDR) ? {AW{1'b0}} : wr_addr + 1'b1;
            if (pop) rd_addr <= (rd_addr == LAST_ADDR) ? {AW{1'b0}} : rd_addr + 1'b1;
            if (push && !pop) begin
                count <= count + 1'b1;
                empty <= 1'b0;
                full <= (count == DEPTH[CW-1:0] - 1'b1);
            end else if (pop && !push) begin
                count <= count - 1'b1;
                empty <= (count - 1'b1 == {CW{1'b0}});
                full <= 1'b0;
            end
        end
    end

endmodule

`resetall
